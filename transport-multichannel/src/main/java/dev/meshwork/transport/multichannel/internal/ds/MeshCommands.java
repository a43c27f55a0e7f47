package dev.meshwork.transport.multichannel.internal.ds;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** Gogo commands {@code mesh:peers}, {@code mesh:channels} and {@code mesh:send}. */
@Component(service = MeshCommands.class, property = {"osgi.command.scope=mesh", "osgi.command.function=peers",
        "osgi.command.function=channels", "osgi.command.function=send"})
public final class MeshCommands {

    @Reference
    private Router router;

    public String peers() {
        StringBuilder b = new StringBuilder(String.format("%-20s %-10s %-40s %6s %s%n", "PEER", "STATE", "ROUTE", "QUEUE", "COUNTERS"));
        for (PeerInfo p : router.peers()) {
            b.append(String.format("%-20s %-10s %-40s %6d %s%s%n", p.node(), p.state(), p.route(), p.queueDepth(),
                    p.counters(), p.lastError().map(e -> " last error: " + e).orElse("")));
        }
        return b.toString();
    }

    public String channels() {
        StringBuilder b = new StringBuilder(String.format("%-20s %-40s %-14s %-6s %9s %10s %10s %s%n", "PEER", "URL",
                "STATE", "ACTIVE", "RTT(ms)", "IN", "OUT", "LAST ERROR"));
        for (PeerInfo p : router.peers()) {
            for (ChannelInfo c : p.channels()) {
                b.append(String.format("%-20s %-40s %-14s %-6s %9s %10d %10d %s%n", p.node(),
                        (c.inbound() ? "<- " : "") + c.uri(), c.state(), c.active() ? "*" : "",
                        c.rtt().map(r -> String.format("%.2f", r.toNanos() / 1e6)).orElse("-"), c.bytesIn(), c.bytesOut(),
                        c.lastError().orElse("")));
            }
        }
        return b.toString();
    }

    public String send(String target, String topic, String text) {
        try {
            var result = router.send(NodeId.of(target), topic, text.getBytes(StandardCharsets.UTF_8),
                    SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(10))).get(15, TimeUnit.SECONDS);
            return "delivered " + result.messageId() + " via " + result.route() + " in " + result.elapsed().toMillis() + " ms";
        } catch (ExecutionException e) {
            return "failed: " + e.getCause();
        } catch (TimeoutException e) {
            return "failed: no answer within 15 s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (IllegalArgumentException e) {
            return "failed: " + e.getMessage();
        }
    }
}
