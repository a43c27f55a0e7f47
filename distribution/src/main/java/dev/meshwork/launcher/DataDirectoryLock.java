package dev.meshwork.launcher;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One owner per data directory: an exclusive OS lock on {@code DATA/.lock}, taken by the launcher
 * before anything else touches the directory (identity, Felix cache, health state, outbox) and
 * held for the life of the process.
 *
 * <p>The lock is the OS's ({@code fcntl} on Linux), not the file's existence: a node that was
 * SIGKILLed leaves the file behind but not the lock, so the next start takes it without help.
 * After locking, the owner writes its pid and start time into the file; a second process that
 * cannot lock reads them to name the holder. It opens the file without truncating it and writes
 * nothing, so a refused start changes nothing in the directory.
 *
 * <p>Why the launcher and not a bundle: the outbox has its own lock on its database, but it comes
 * up long after Felix has cleaned and rebuilt {@code felix-cache/} and after other bundles have
 * opened their files; and a runtime without the outbox bundle had no lock at all.
 */
final class DataDirectoryLock implements AutoCloseable {

    static final String FILE = ".lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock on {@code dataDir} (which must exist), or fails with a one-line
     * {@link LaunchException#STARTUP} naming the process that holds it.
     */
    static DataDirectoryLock acquire(Path dataDir) throws LaunchException {
        Path file = dataDir.resolve(FILE);
        FileChannel channel;
        try {
            // No TRUNCATE_EXISTING: the holder's pid must survive a refused start.
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new LaunchException(LaunchException.CONFIG, "cannot open " + file + ": " + ConfigSources.oneLine(e));
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this JVM already holds it (two launches in one process)
        } catch (IOException e) {
            closeQuietly(channel);
            throw new LaunchException(LaunchException.STARTUP, "cannot lock " + file + ": " + ConfigSources.oneLine(e));
        }
        if (lock == null) {
            String holder = read(channel);
            closeQuietly(channel);
            throw new LaunchException(LaunchException.STARTUP, "the data directory " + dataDir + " is in use by another node ("
                    + (holder.isEmpty() ? "holder unknown" : holder) + "); stop it or give this one its own --data DIR");
        }
        try {
            ProcessHandle self = ProcessHandle.current();
            String owner = "pid " + self.pid() + ", started " + self.info().startInstant().orElse(Instant.now());
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((owner + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new LaunchException(LaunchException.STARTUP, "cannot write " + file + ": " + ConfigSources.oneLine(e));
        }
        return new DataDirectoryLock(channel, lock);
    }

    private static String read(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(256);
            channel.read(buffer, 0);
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing held
        }
    }

    /** Releases the lock; the file stays (its content is only a hint for the next refused start). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }
}
