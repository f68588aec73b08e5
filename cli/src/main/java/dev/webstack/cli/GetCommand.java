package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "get", mixinStandardHelpOptions = true,
        description = {
            "Fetch a URL as a visitor would: its host resolved through the stack's DNS, not /etc/hosts.",
            "Connects to the address DNS gave on the web tier's port and prints status, headers and body, like curl -i.",
            "An https:// URL goes to web.tls's port and trusts exactly the certificate web.tls serves (the self-signed one by default)."
        })
final class GetCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Parameters(index = "0", paramLabel = "URL", description = "e.g. http://www.foobar.com/ or https://www.foobar.com/")
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
        boolean https = "https".equalsIgnoreCase(url.getScheme());
        if (url.getHost() == null || !(https || "http".equalsIgnoreCase(url.getScheme()))) {
            throw new CommandFailedException("'" + url + "' is not an http:// or https:// URL with a host", 2);
        }
        if (https && stack.web().tls().isEmpty()) {
            throw new CommandFailedException("'" + url + "': the stack serves no HTTPS (web.tls is not set in " + config.path() + ")", 2);
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
        int port = url.getPort() > 0 ? url.getPort()
                : https ? stack.web().tls().orElseThrow().listen().port() : stack.web().listen().port();
        String pathAndQuery = (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
                + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
        URI target = URI.create((https ? "https://" : "http://") + address.getHostAddress() + ":" + port + pathAndQuery);
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
        HttpClient.Builder builder = HttpClient.newBuilder();
        if (https) {
            builder.sslContext(trusting(stack.web().tls().orElseThrow().certificate()));
        }
        HttpClient client = builder.version(HttpClient.Version.HTTP_1_1)
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

    /**
     * A TLS context that trusts exactly the stack's certificate (pinned). The request goes to the
     * address the stack's DNS gave, not to the name, so the name is not checked against the
     * certificate: the pin is what says this is the stack's web tier.
     */
    private static SSLContext trusting(Path certificate) throws Exception {
        if (!Files.isReadable(certificate)) {
            throw new CommandFailedException("cannot read the web tier's certificate " + certificate
                    + " (is the stack up? a self-signed one is made when the web tier starts)", 2);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(certificate)) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("web-" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
        return context;
    }
}
