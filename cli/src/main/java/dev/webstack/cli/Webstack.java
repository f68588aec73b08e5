package dev.webstack.cli;

import dev.webstack.common.config.ConfigException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code webstack} command: the supervisor, the tiers, and tools to look at the running stack. */
@Command(
        name = "webstack",
        mixinStandardHelpOptions = true,
        version = "webstack 0.1.0",
        description = "The web infrastructure of www.foobar.com: DNS, web server, application server, codebase, MySQL.",
        subcommands = {
            UpCommand.class,
            DownCommand.class,
            StatusCommand.class,
            DigCommand.class,
            GetCommand.class,
            ReloadCommand.class,
            ReopenCommand.class,
            DrillCommand.class,
            OperationCommands.Servers.class,
            OperationCommands.Drain.class,
            OperationCommands.Enable.class,
            OperationCommands.Disable.class,
            OperationCommands.Scale.class,
            OperationCommands.Deploy.class,
            DbTierCommand.class,
            AppTierCommand.class,
            WebTierCommand.class,
            DnsTierCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class Webstack implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final java.util.Set<String> SERVER_COMMANDS = java.util.Set.of("up", "db", "app", "web", "dns");

    public static void main(String[] args) {
        // get and the drills send Host: www.foobar.com to an IP address, as a browser would after DNS;
        // java.net.http reads this once, when its first client is built.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        boolean tool = args.length > 1 && java.util.Set.of("backup", "restore", "promote", "check").contains(args[1]);
        if (args.length == 0 || !SERVER_COMMANDS.contains(args[0]) || tool) {
            // Tools (status, dig, get, down) print their answer, not library chatter.
            System.setProperty("webstack.log.level", "WARN");
        }
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty's default samples one buffer in 128 and records a stack trace for it: about 3% of
            // the web tier's CPU on proxied requests. The tests run with it on (the default), so that
            // a leak shows up there; -Dio.netty.leakDetection.level=simple on the java command line turns it back on.
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        System.exit(commandLine().execute(args));
    }

    /** The command line with webstack's error handling: a bad config prints file:line: reason, no stack trace. */
    public static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new Webstack());
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (ex instanceof ConfigException) {
                err.println("webstack: bad config: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof CommandFailedException) {
                err.println("webstack: " + ex.getMessage());
                return ((CommandFailedException) ex).exitCode();
            }
            err.println("webstack: " + ex);
            return 1;
        });
        return cmd;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
