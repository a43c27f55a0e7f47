package dev.meshwork.outbox.sqlite.internal;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The other process of {@link OwnerLockTest}: opens an outbox on the given file, prints
 * {@code READY <pid>} and keeps it open until its stdin closes (or it is killed).
 */
public final class LockHolderChild {

    private LockHolderChild() {
    }

    public static void main(String[] args) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (OutboxService outbox = new OutboxService(OutboxConfig.defaults(Path.of(args[0])), InstantSource.system(),
                System::nanoTime, scheduler, () -> 0.5)) {
            System.out.println("READY " + ProcessHandle.current().pid());
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold the outbox open until the test closes our stdin
            }
        }
        scheduler.shutdownNow();
    }
}
