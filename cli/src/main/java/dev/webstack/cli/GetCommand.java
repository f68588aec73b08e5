package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "get", mixinStandardHelpOptions = true,
        description = {
            "Fetch a URL as a visitor would: its host resolved through the stack's DNS, not /etc/hosts.",
            "Connects to the address DNS gave on the web tier's port and prints status, headers and body, like curl -i."
        })
final class GetCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Parameters(index = "0", paramLabel = "URL", description = "e.g. http://www.foobar.com/")
    URI url;

    @Option(names = {"-X", "--request"}, paramLabel = "METHOD", defaultValue = "GET", description = "The method (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = {"-H", "--header"}, paramLabel = "NAME: VALUE", description = "An extra request header (repeatable).")
    List<String> headers = List.of();

    @Option(names = {"-d", "--data"}, paramLabel = "BODY", description = "A request body (sent with POST unless -X says otherwise).")
    String data;

    @Option(names = {"-I", "--head"}, description = "Print the status and headers only.")
    boolean headOnly;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // java.net.http refuses to set Host unless told; the Host is the point of a virtual-hosted request.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        StackConfig stack = config.load();
        if (url.getHost() == null || !"http".equalsIgnoreCase(url.getScheme())) {
            throw new CommandFailedException("'" + url + "' is not an http:// URL with a host", 2);
        }
        String host = url.getHost();
        InetAddress address;
        if (host.matches("[0-9.]+") || host.contains(":")) {
            address = InetAddress.getByName(host);
        } else {
            StackDns.Resolution r = new StackDns(stack.dns().listen()).resolve(host);
            if (r.addresses().isEmpty()) {
                throw new CommandFailedException("could not resolve " + host + " through the stack's DNS at "
                        + stack.dns().listen() + ": " + r.rcode(), 6);
            }
            address = r.addresses().get(0);
            err.println("* " + host + " resolved by the stack's DNS (" + stack.dns().listen() + "): " + r.describe());
        }
        int port = url.getPort() > 0 ? url.getPort() : stack.web().listen().port();
        String pathAndQuery = (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
                + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
        URI target = URI.create("http://" + address.getHostAddress() + ":" + port + pathAndQuery);
        err.println("* connecting to " + address.getHostAddress() + ":" + port);
        err.flush();

        String verb = data != null && "GET".equals(method) ? "POST" : method.toUpperCase();
        HttpRequest.Builder request = HttpRequest.newBuilder(target)
                .timeout(Duration.ofSeconds(30))
                .header("Host", url.getPort() > 0 ? host + ":" + url.getPort() : host)
                .header("User-Agent", "webstack-get/0.1")
                .method(verb, data == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(data, StandardCharsets.UTF_8));
        for (String h : headers) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new CommandFailedException("header '" + h + "' (expected: NAME: VALUE)", 2);
            }
            request.header(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
        }
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();
        HttpResponse<byte[]> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new CommandFailedException("cannot fetch " + url + " from " + target.getAuthority() + ": " + e, 7);
        }
        out.println("HTTP/1.1 " + response.statusCode());
        for (Map.Entry<String, List<String>> h : response.headers().map().entrySet()) {
            for (String v : h.getValue()) {
                out.println(h.getKey() + ": " + v);
            }
        }
        out.println();
        if (!headOnly) {
            out.print(new String(response.body(), StandardCharsets.UTF_8));
        }
        out.flush();
        return 0;
    }
}
