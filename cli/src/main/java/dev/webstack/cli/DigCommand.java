package dev.webstack.cli;

import dev.webstack.common.config.HostPort;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.xbill.DNS.Message;
import org.xbill.DNS.Type;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "dig", mixinStandardHelpOptions = true,
        description = "Ask the stack's DNS server (not the system resolver) and print the answer the way dig does.")
final class DigCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Parameters(index = "0", paramLabel = "NAME", description = "The name to look up, e.g. www.foobar.com.")
    String name;

    @Parameters(index = "1", paramLabel = "TYPE", defaultValue = "A", description = "The record type (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--tcp", description = "Ask over TCP instead of UDP.")
    boolean tcp;

    @Option(names = "--server", paramLabel = "HOST:PORT", description = "Ask this server instead of the stack's DNS tier.")
    String server;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int qtype = Type.value(type.toUpperCase());
        if (qtype < 0) {
            throw new CommandFailedException("unknown record type '" + type + "' (expected e.g. A, AAAA, CNAME, MX, TXT, NS, SOA)", 2);
        }
        HostPort target = server != null ? HostPort.parse(server) : config.load().dns().listen();
        long t0 = System.nanoTime();
        Message answer;
        try {
            answer = new StackDns(target).query(name, qtype, tcp);
        } catch (java.io.IOException e) {
            throw new CommandFailedException("no answer from " + target + ": " + e.getMessage(), 9);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        out.println("; <<>> webstack dig <<>> @" + target + " " + name + " " + Type.string(qtype) + (tcp ? " +tcp" : ""));
        out.print(answer);
        out.println();
        out.println(";; Query time: " + ms + " msec");
        out.println(";; SERVER: " + target + " (" + (tcp ? "TCP" : "UDP") + ")");
        out.println(";; MSG SIZE  rcvd: " + answer.numBytes());
        out.flush();
        return 0;
    }
}
