package dev.meshwork.supervisor.internal;

import dev.meshwork.supervisor.internal.process.ExitStatus;
import dev.meshwork.supervisor.internal.process.GatewayProcess;
import dev.meshwork.supervisor.internal.process.Spawner;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A spawner of pretend processes whose exits, output and signals a test controls. */
final class FakeSpawner implements Spawner {

    final List<FakeProcess> spawned = new CopyOnWriteArrayList<>();
    final List<Long> adopted = new ArrayList<>();
    /** The (port-resolved) configuration of each spawn, in order. */
    final List<SupervisorConfig> configs = new CopyOnWriteArrayList<>();
    private long nextPid = 1000;
    boolean failSpawn;
    /** Whether processes ignore SIGTERM (they then need SIGKILL). */
    boolean ignoreTerm;

    @Override
    public GatewayProcess spawn(SupervisorConfig config, long epoch) throws IOException {
        if (failSpawn) {
            throw new IOException("No such file or directory");
        }
        FakeProcess p = new FakeProcess(nextPid++, epoch, ignoreTerm, false);
        configs.add(config);
        spawned.add(p);
        return p;
    }

    @Override
    public Optional<GatewayProcess> adopt(SupervisorConfig config, long pid) {
        adopted.add(pid);
        return Optional.of(new FakeProcess(pid, -1, false, true));
    }

    FakeProcess last() {
        return spawned.get(spawned.size() - 1);
    }

    static final class FakeProcess implements GatewayProcess {
        final long pid;
        final long epoch;
        final boolean ignoreTerm;
        final boolean adopted;
        final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
        final List<String> signals = new CopyOnWriteArrayList<>();
        final List<String> output = new CopyOnWriteArrayList<>();
        boolean diesOnSignal;

        FakeProcess(long pid, long epoch, boolean ignoreTerm, boolean adopted) {
            this.pid = pid;
            this.epoch = epoch;
            this.ignoreTerm = ignoreTerm;
            this.adopted = adopted;
        }

        void exitWith(int code) {
            exit.complete(ExitStatus.fromExitValue(code));
        }

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public CompletableFuture<ExitStatus> exit() {
            return exit;
        }

        @Override
        public void terminate() {
            signals.add("TERM");
            if (!ignoreTerm) {
                exitWith(143);
            }
        }

        @Override
        public void kill() {
            signals.add("KILL");
            exitWith(137);
        }

        @Override
        public boolean signal(String signal) {
            if (exit.isDone()) {
                return false;
            }
            signals.add(signal);
            if (diesOnSignal) {
                exitWith(128 + 1);
            }
            return true;
        }

        @Override
        public boolean anyAlive() {
            return !exit.isDone();
        }

        @Override
        public List<String> output() {
            return List.copyOf(output);
        }

        @Override
        public boolean adopted() {
            return adopted;
        }
    }
}
