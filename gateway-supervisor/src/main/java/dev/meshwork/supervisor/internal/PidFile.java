package dev.meshwork.supervisor.internal;

import dev.meshwork.supervisor.internal.process.ProcessTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.OptionalLong;

/**
 * The file {@code <dir>/<name>.pid} that says which running process is this supervisor's
 * gateway: its pid and its kernel start time, so a recycled pid is never mistaken for ours.
 *
 * <p>Why: after the node restarts, a gateway it started may still hold the port. It is adopted
 * only if this file names it; any other holder of the port is reported, never killed.
 */
public final class PidFile {

    private final Path file;
    private final ProcessTable table;

    public PidFile(Path dir, String name, ProcessTable table) {
        this.file = dir == null ? null : dir.resolve(name.replaceAll("[^A-Za-z0-9_.-]", "_") + ".pid");
        this.table = table;
    }

    public void write(long pid) {
        write(pid, 0);
    }

    /** Names {@code pid} as ours; {@code port} (0 = not recorded) says which port it serves, for blue/green adoption. */
    public void write(long pid, int port) {
        if (file == null) {
            return;
        }
        long start = table.stat(pid).map(ProcessTable.Stat::startTicks).orElse(-1L);
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, pid + " " + start + (port > 0 ? " " + port : "") + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot write pid file " + file + ": " + e.getMessage(), e);
        }
    }

    public void delete() {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a stale pid file is harmless: its start time will not match
            }
        }
    }

    /** The pid in the file, if the file exists and that process is still the one it names. */
    public OptionalLong liveOwnedPid() {
        if (file == null || !Files.isRegularFile(file)) {
            return OptionalLong.empty();
        }
        try {
            String[] f = Files.readString(file, StandardCharsets.UTF_8).trim().split("\\s+");
            long pid = Long.parseLong(f[0]);
            long start = f.length > 1 ? Long.parseLong(f[1]) : -1;
            boolean same = table.stat(pid).map(s -> !s.isZombie() && (start < 0 || s.startTicks() == start)).orElse(false);
            return same ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** The port written with the pid, if any (a gateway restarted blue/green serves on one of two ports). */
    public java.util.OptionalInt recordedPort() {
        if (file == null || !Files.isRegularFile(file)) {
            return java.util.OptionalInt.empty();
        }
        try {
            String[] f = Files.readString(file, StandardCharsets.UTF_8).trim().split("\\s+");
            return f.length > 2 ? java.util.OptionalInt.of(Integer.parseInt(f[2])) : java.util.OptionalInt.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.OptionalInt.empty();
        }
    }

    public Path path() {
        return file;
    }
}
