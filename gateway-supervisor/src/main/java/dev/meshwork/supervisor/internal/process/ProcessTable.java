package dev.meshwork.supervisor.internal.process;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads Linux's process table under {@code /proc}: process groups, start times, command lines,
 * and which process listens on a TCP port.
 *
 * <p>Why {@code /proc} rather than {@code ps}, {@code ss} or {@code lsof}: those come from procps,
 * iproute2 and lsof, which a minimal Debian image does not have, while {@code /proc} is always
 * there. A socket held by another user's process is found in {@code /proc/net/tcp} but its pid is
 * not readable; that is reported as such.
 */
public final class ProcessTable {

    private final Path proc;

    public ProcessTable() {
        this(Path.of("/proc"));
    }

    public ProcessTable(Path proc) {
        this.proc = proc;
    }

    /** One entry of {@code /proc/PID/stat}. */
    public record Stat(long pid, char state, long ppid, long pgid, long sid, long startTicks) {
        public boolean isZombie() {
            return state == 'Z' || state == 'X';
        }
    }

    public Optional<Stat> stat(long pid) {
        byte[] buf = BUFFER.get();
        int n;
        // FileInputStream rather than Files.readString: a scan of the whole table reads every
        // /proc/N/stat, and the plain stream is several times cheaper per small file.
        try (FileInputStream in = new FileInputStream(proc.resolve(Long.toString(pid)).resolve("stat").toFile())) {
            n = in.read(buf);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (n <= 0) {
            return Optional.empty();
        }
        // The command name is in parentheses and may itself contain spaces and ')'.
        int i = n - 1;
        while (i >= 0 && buf[i] != ')') {
            i--;
        }
        if (i < 0) {
            return Optional.empty();
        }
        i += 2; // skip ") "
        long[] fields = new long[20];
        char state = (char) buf[i];
        int field = 0;
        i += 2;
        long value = 0;
        boolean negative = false;
        // fields after the state: ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime priority nice num_threads itrealvalue starttime
        for (; i < n && field < 19; i++) {
            byte b = buf[i];
            if (b == ' ' || b == '\n') {
                fields[field++] = negative ? -value : value;
                value = 0;
                negative = false;
            } else if (b == '-') {
                negative = true;
            } else {
                value = value * 10 + (b - '0');
            }
        }
        if (field < 19) {
            return Optional.empty();
        }
        return Optional.of(new Stat(pid, state, fields[0], fields[1], fields[2], fields[18]));
    }

    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[1024]);

    /** Live (non-zombie) processes whose process group is {@code pgid}. */
    public List<Long> groupMembers(long pgid) {
        List<Long> members = new ArrayList<>();
        for (long pid : pids()) {
            stat(pid).filter(s -> s.pgid() == pgid && !s.isZombie()).ifPresent(s -> members.add(pid));
        }
        return members;
    }

    /** Whether the process exists and is not a zombie. */
    public boolean isAlive(long pid) {
        return stat(pid).map(s -> !s.isZombie()).orElse(false);
    }

    /** The command line with arguments joined by spaces, or {@code [name]} for kernel threads. */
    public String command(long pid) {
        try {
            byte[] raw = Files.readAllBytes(proc.resolve(Long.toString(pid)).resolve("cmdline"));
            if (raw.length == 0) {
                return "[" + Files.readString(proc.resolve(Long.toString(pid)).resolve("comm")).trim() + "]";
            }
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    raw[i] = ' ';
                }
            }
            String cmd = new String(raw, StandardCharsets.UTF_8).trim();
            // Long command lines (class paths) keep their head and tail: the program and its main
            // class or script are what an operator needs to recognise the process.
            return cmd.length() > 300 ? cmd.substring(0, 150) + " … " + cmd.substring(cmd.length() - 140) : cmd;
        } catch (IOException e) {
            return "?";
        }
    }

    /** Who listens on a TCP port, as far as this user can see. */
    public record PortHolder(int port, OptionalLong pid, String command) {
        public String describe() {
            return pid.isPresent() ? "pid " + pid.getAsLong() + " (" + command + ")"
                    : "a process this user cannot inspect (" + command + ")";
        }
    }

    /** The process listening on {@code port} (IPv4 or IPv6), if any. */
    public Optional<PortHolder> listener(int port) {
        List<Long> inodes = new ArrayList<>();
        for (String table : List.of("net/tcp", "net/tcp6")) {
            try {
                for (String line : Files.readAllLines(proc.resolve(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length < 10 || !f[3].equals("0A")) { // 0A = TCP_LISTEN
                        continue;
                    }
                    String local = f[1];
                    int p = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
                    if (p == port) {
                        inodes.add(Long.parseLong(f[9]));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // table absent (no IPv6) or unreadable: look at the other one
            }
        }
        if (inodes.isEmpty()) {
            return Optional.empty();
        }
        for (long pid : pids()) {
            Path fds = proc.resolve(Long.toString(pid)).resolve("fd");
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(fds)) {
                for (Path fd : ds) {
                    String target;
                    try {
                        target = Files.readSymbolicLink(fd).toString();
                    } catch (IOException e) {
                        continue;
                    }
                    for (long inode : inodes) {
                        if (target.equals("socket:[" + inode + "]")) {
                            return Optional.of(new PortHolder(port, OptionalLong.of(pid), command(pid)));
                        }
                    }
                }
            } catch (IOException | SecurityException e) {
                // another user's process: its fds are not ours to read
            }
        }
        return Optional.of(new PortHolder(port, OptionalLong.empty(), "socket inode " + inodes.get(0)));
    }

    private List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(proc)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && Character.isDigit(n.charAt(0))) {
                    try {
                        pids.add(Long.parseLong(n));
                    } catch (NumberFormatException e) {
                        // not a process directory
                    }
                }
            }
        } catch (IOException e) {
            // no /proc: nothing to report
        }
        return pids;
    }
}
