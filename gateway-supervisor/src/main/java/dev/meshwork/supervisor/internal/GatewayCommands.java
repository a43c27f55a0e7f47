package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.LifecycleController;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Gogo commands {@code gateway:list}, {@code gateway:status NAME}, {@code gateway:restart NAME},
 * {@code gateway:reload NAME} over every registered {@link LifecycleController}.
 */
@Component(service = GatewayCommands.class, property = {"osgi.command.scope=gateway", "osgi.command.function=list",
    "osgi.command.function=status", "osgi.command.function=restart", "osgi.command.function=reload"})
public final class GatewayCommands {

    private static final long WAIT_SECONDS = 60;

    private final List<LifecycleController> controllers = new CopyOnWriteArrayList<>();

    public GatewayCommands() {
    }

    /** For tests: commands over a fixed set of controllers. */
    public GatewayCommands(List<LifecycleController> fixed) {
        controllers.addAll(fixed);
    }

    @Reference(service = LifecycleController.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindController(LifecycleController c) {
        controllers.add(c);
    }

    void unbindController(LifecycleController c) {
        controllers.remove(c);
    }

    public String list() {
        if (controllers.isEmpty()) {
            return "no gateways configured";
        }
        StringBuilder sb = new StringBuilder(String.format("%-20s %-9s %8s %9s %8s  %s%n", "NAME", "STATE", "PID", "UPTIME",
                "RESTARTS", "ACTIVE PORT"));
        controllers.stream().map(LifecycleController::status).sorted(Comparator.comparing(LifecycleStatus::name))
                .forEach(s -> sb.append(String.format("%-20s %-9s %8s %9s %8d  %s%n", s.name(), s.state(),
                        s.pid().isPresent() ? Long.toString(s.pid().getAsLong()) : "-",
                        s.uptime().map(GatewayCommands::human).orElse("-"), s.restarts(),
                        s.blueGreen().map(b -> b.activePort() + " (" + b.activeColour() + ")").orElse("-"))));
        return sb.toString();
    }

    public String status(String name) {
        return find(name).map(GatewayCommands::describe).orElse(unknown(name));
    }

    public String restart(String name) {
        return find(name).map(c -> await(c.restart(), "restart")).orElse(unknown(name));
    }

    public String reload(String name) {
        return find(name).map(c -> await(c.reload(), "reload")).orElse(unknown(name));
    }

    private Optional<LifecycleController> find(String name) {
        return controllers.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    private String unknown(String name) {
        return "no gateway named '" + name + "' (known: "
                + String.join(", ", controllers.stream().map(LifecycleController::name).sorted().toList()) + ")";
    }

    private static String await(CompletableFuture<LifecycleStatus> f, String what) {
        try {
            return what + " done\n" + describe(f.get(WAIT_SECONDS, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            return what + " failed: " + e.getCause().getMessage();
        } catch (TimeoutException e) {
            return what + " still in progress after " + WAIT_SECONDS + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return what + " interrupted";
        }
    }

    static String describe(LifecycleStatus s) {
        StringBuilder sb = new StringBuilder();
        sb.append("gateway   ").append(s.name()).append('\n');
        sb.append("state     ").append(s.state()).append(" since ").append(s.since()).append(" (epoch ").append(s.epoch()).append(")\n");
        s.pid().ifPresent(p -> sb.append("pid       ").append(p).append('\n'));
        s.uptime().ifPresent(u -> sb.append("uptime    ").append(human(u)).append('\n'));
        sb.append("restarts  ").append(s.restarts()).append('\n');
        s.lastExitCode().ifPresent(c -> sb.append("last exit code ").append(c).append('\n'));
        s.lastSignal().ifPresent(sig -> sb.append("last signal ").append(sig).append('\n'));
        s.lastError().ifPresent(e -> sb.append("last error ").append(e).append('\n'));
        s.nextAttemptAt().ifPresent(t -> sb.append("next attempt ").append(t).append('\n'));
        s.blueGreen().ifPresent(b -> {
            sb.append("blue/green active port ").append(b.activePort()).append(" (").append(b.activeColour())
                    .append("), standby ").append(b.standbyPort()).append('\n');
            b.candidatePid().ifPresent(c -> sb.append("switching: new pid ").append(c).append(" starting on port ")
                    .append(b.standbyPort()).append("; the old one serves until it is ready\n"));
            sb.append("switches  ").append(b.switches()).append(" done, ").append(b.failedSwitches()).append(" failed\n");
            b.lastSwitchFailure().ifPresent(f -> sb.append("last failed switch ").append(f).append('\n'));
        });
        if (!s.recentOutput().isEmpty()) {
            sb.append("recent output:\n");
            s.recentOutput().forEach(l -> sb.append("  ").append(l).append('\n'));
        }
        return sb.toString();
    }

    /**
     * The status of one gateway; for our own supervisor with what failed inside it, both from one
     * snapshot (read on the shell's thread while the supervisor's thread moves on).
     */
    static String describe(LifecycleController c) {
        if (!(c instanceof GatewaySupervisor s)) {
            return describe(c.status());
        }
        SupervisorSnapshot snap = s.snapshot();
        StringBuilder sb = new StringBuilder(describe(snap.statusAt(s.nanoTime())));
        failures(sb, "task failures ", snap.taskFailures());
        failures(sb, "listener failures ", snap.listenerFailures());
        return sb.toString();
    }

    private static void failures(StringBuilder sb, String what, GuardedScheduler.Failures f) {
        if (f.count() > 0) {
            sb.append(what).append(f.count()).append(" (last: ").append(f.last().orElse("?")).append(")\n");
        }
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60)
                : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : d.toMillis() + "ms";
    }
}
