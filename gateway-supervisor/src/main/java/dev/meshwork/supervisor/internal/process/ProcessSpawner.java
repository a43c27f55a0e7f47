package dev.meshwork.supervisor.internal.process;

import dev.meshwork.supervisor.internal.Signals;
import dev.meshwork.supervisor.internal.SupervisorConfig;
import dev.meshwork.supervisor.internal.output.LineClassifier;
import dev.meshwork.supervisor.internal.output.OutputLog;
import dev.meshwork.supervisor.internal.output.Redactor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a gateway with {@link ProcessBuilder} under {@code setsid}, so it leads a new session
 * and process group that holds all of its children; pumps its output into the log.
 *
 * <p>Why a process group: the gateway's children (workers, shells, a {@code node} started by a
 * wrapper script) must not outlive it holding the port. Signalling {@code -PGID} reaches all of
 * them; descendants that start their own session are tracked as well from
 * {@link ProcessHandle#descendants()} while the gateway lives. {@code setsid} (util-linux) is
 * essential on Debian; when the JVM's child is not a group leader it execs in place, so the pid
 * the JDK reports is the gateway's pid and its group id.
 */
public final class ProcessSpawner implements Spawner {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessSpawner.class);

    private final ProcessTable table;
    private final LongSupplier nanoTime;
    private final String setsid;

    public ProcessSpawner(ProcessTable table, LongSupplier nanoTime) {
        this.table = table;
        this.nanoTime = nanoTime;
        this.setsid = Files.isExecutable(Path.of("/usr/bin/setsid")) ? "/usr/bin/setsid" : "setsid";
    }

    @Override
    public GatewayProcess spawn(SupervisorConfig config, long epoch) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(setsid);
        argv.addAll(config.command());
        ProcessBuilder pb = new ProcessBuilder(argv);
        config.workingDir().ifPresent(d -> pb.directory(d.toFile()));
        pb.environment().putAll(config.env());
        Redactor redactor = new Redactor(config.redact(), config.env(), config.command());
        Logger gatewayLog = LoggerFactory.getLogger("dev.meshwork.supervisor.gateway." + config.name());
        OutputLog output = new OutputLog(gatewayLog, redactor, new LineClassifier(config.output().levelPatterns()),
                config.output(), nanoTime);
        Process process = pb.start();
        process.getOutputStream().close();
        CompletableFuture<Void> out = output.pump(process.getInputStream(), false,
                "gateway-" + config.name() + "-" + process.pid() + "-out");
        CompletableFuture<Void> err = output.pump(process.getErrorStream(), true,
                "gateway-" + config.name() + "-" + process.pid() + "-err");
        LOG.info("gateway {}: spawned pid {} (epoch {}): {}", config.name(), process.pid(), epoch,
                redactor.redactCommand(config.command()));
        CompletableFuture<ExitStatus> exit = process.onExit().thenApply(p -> ExitStatus.fromExitValue(p.exitValue()));
        CompletableFuture<Void> drained = CompletableFuture.allOf(out, err);
        return new Spawned(process.toHandle(), exit, drained, output, false);
    }

    @Override
    public Optional<GatewayProcess> adopt(SupervisorConfig config, long pid) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(h -> {
            Redactor redactor = new Redactor(config.redact(), config.env(), config.command());
            OutputLog output = new OutputLog(LoggerFactory.getLogger("dev.meshwork.supervisor.gateway." + config.name()),
                    redactor, new LineClassifier(config.output().levelPatterns()), config.output(), nanoTime);
            return new Spawned(h, h.onExit().thenApply(p -> ExitStatus.unknown()), CompletableFuture.completedFuture(null),
                    output, true);
        });
    }

    private final class Spawned implements GatewayProcess {
        private final ProcessHandle handle;
        private final CompletableFuture<ExitStatus> exit;
        private final CompletableFuture<Void> drained;
        private final OutputLog output;
        private final boolean adopted;
        private final Set<Long> descendants = ConcurrentHashMap.newKeySet();

        Spawned(ProcessHandle handle, CompletableFuture<ExitStatus> exit, CompletableFuture<Void> drained, OutputLog output,
                boolean adopted) {
            this.handle = handle;
            this.exit = exit;
            this.drained = drained;
            this.output = output;
            this.adopted = adopted;
        }

        @Override
        public long pid() {
            return handle.pid();
        }

        @Override
        public CompletableFuture<ExitStatus> exit() {
            return exit;
        }

        private void noteDescendants() {
            try {
                handle.descendants().forEach(d -> descendants.add(d.pid()));
            } catch (RuntimeException e) {
                // the tree changed under us; the group signal still reaches most of it
            }
        }

        @Override
        public CompletableFuture<Void> drained() {
            return drained;
        }

        @Override
        public void terminate() {
            noteDescendants();
            if (handle.isAlive()) {
                // setsid made pid the group id: one group signal reaches the whole tree.
                if (!Signals.toGroup(pid(), "TERM")) {
                    handle.destroy();
                }
            } else {
                // The leader is gone (a crash): signal the re-parented members one by one with
                // kill(2) through ProcessHandle, which costs no shell fork on the respawn path. A
                // member forked after this scan is caught by the group SIGKILL after the grace.
                for (long member : table.groupMembers(pid())) {
                    ProcessHandle.of(member).ifPresent(ProcessHandle::destroy);
                }
            }
            for (long d : descendants) {
                if (table.stat(d).map(s -> s.pgid() != pid()).orElse(false)) {
                    ProcessHandle.of(d).ifPresent(ProcessHandle::destroy);
                }
            }
        }

        @Override
        public void kill() {
            noteDescendants();
            Signals.toGroup(pid(), "KILL");
            handle.destroyForcibly();
            for (long d : descendants) {
                ProcessHandle.of(d).ifPresent(ProcessHandle::destroyForcibly);
            }
        }

        @Override
        public boolean signal(String signal) {
            return handle.isAlive() && Signals.toProcess(pid(), signal);
        }

        @Override
        public boolean anyAlive() {
            if (handle.isAlive() && !exit.isDone()) {
                return true;
            }
            if (!table.groupMembers(pid()).isEmpty()) {
                return true;
            }
            for (long d : descendants) {
                if (table.isAlive(d)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public List<String> output() {
            return output.recent();
        }

        @Override
        public CompletableFuture<String> awaitLine(java.util.regex.Pattern pattern) {
            return output.awaitLine(pattern);
        }

        @Override
        public boolean adopted() {
            return adopted;
        }
    }
}
