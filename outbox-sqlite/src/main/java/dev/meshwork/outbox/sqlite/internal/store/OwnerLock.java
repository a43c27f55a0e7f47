package dev.meshwork.outbox.sqlite.internal.store;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive OS lock on {@code <database>.lock}, held for as long as one outbox has the
 * database open, so a second process (or a second outbox in this one) opening the same file
 * fails at start instead of draining the same rows twice.
 *
 * <p>Why a sibling file and not SQLite's {@code locking_mode=EXCLUSIVE}: that mode would also
 * lock out this outbox's own read-only connection, and a second process would only notice at
 * its first write, after its busy timeout; a {@code fcntl} lock on a separate file is released by the kernel when
 * the holder dies, even by {@code kill -9}, so a crashed owner never blocks its successor. The
 * holder writes its pid into the file, so the refusal can name it. The file is never deleted:
 * deleting it would let two processes lock two different inodes of the same name.
 */
public final class OwnerLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private OwnerLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** The lock file of {@code database}. */
    public static Path lockFile(Path database) {
        return database.resolveSibling(database.getFileName() + ".lock");
    }

    /**
     * Takes the lock of {@code database} without waiting.
     *
     * @throws PermanentException {@code STORAGE_UNAVAILABLE}, one line naming the database, the
     *                            lock file and the holder's pid when another owner has it
     */
    public static OwnerLock acquire(Path database) {
        Path file = lockFile(database);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new PermanentException(FailureCode.STORAGE_UNAVAILABLE,
                    "outbox database " + database + ": cannot open its lock file " + file + ": " + e, e);
        }
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                throw inUse(database, file, "this process (pid " + ProcessHandle.current().pid() + ")");
            }
            if (lock == null) {
                throw inUse(database, file, holder(ch));
            }
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(pid), 0);
            return new OwnerLock(ch, lock);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new PermanentException(FailureCode.STORAGE_UNAVAILABLE,
                    "outbox database " + database + ": cannot lock " + file + ": " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static PermanentException inUse(Path database, Path lockFile, String holder) {
        return new PermanentException(FailureCode.STORAGE_UNAVAILABLE, "outbox database " + database
                + " is already open by " + holder + " (lock " + lockFile + "); one outbox per database file");
    }

    /** "process pid N" from the lock file, or a vaguer phrase if the holder has not written it yet. */
    private static String holder(FileChannel ch) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(32);
            ch.read(buf, 0);
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
            if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
                return "process pid " + text;
            }
        } catch (IOException e) {
            // the pid is a courtesy; the refusal stands without it
        }
        return "another process (pid unknown)";
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    /** Releases the lock (the pid stays in the file; the next owner overwrites it). */
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
