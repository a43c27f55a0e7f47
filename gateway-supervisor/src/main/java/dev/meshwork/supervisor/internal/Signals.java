package dev.meshwork.supervisor.internal;

import java.io.IOException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Sends POSIX signals to a process or a process group with the shell's built-in {@code kill}.
 *
 * <p>Why the shell: the JDK can only send SIGTERM and SIGKILL to single processes, and
 * {@code /bin/kill} (procps) is missing from minimal Debian images, while {@code /bin/sh} (dash)
 * is essential and its built-in {@code kill} accepts {@code -s NAME -- -PGID}. The signal name is
 * checked against a fixed list, so configuration never reaches the shell as code.
 */
public final class Signals {

    private static final Set<String> KNOWN = Set.of("HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP");

    private Signals() {
    }

    /** Normalises {@code SIGHUP}/{@code hup}/{@code HUP} to {@code HUP}, rejecting unknown names. */
    public static String requireKnown(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        if (n.startsWith("SIG")) {
            n = n.substring(3);
        }
        if (!KNOWN.contains(n)) {
            throw new IllegalArgumentException("reload.signal: unknown signal '" + name + "' (known: " + KNOWN + ")");
        }
        return n;
    }

    /** Signals one process. Returns false if it no longer exists. */
    public static boolean toProcess(long pid, String signal) {
        return kill(signal, Long.toString(pid));
    }

    /** Signals every process in the group {@code pgid}. Returns false if the group is empty. */
    public static boolean toGroup(long pgid, String signal) {
        return kill(signal, "-" + pgid);
    }

    private static boolean kill(String signal, String target) {
        String sig = requireKnown(signal);
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", "kill -s " + sig + " -- " + target + " 2>/dev/null")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
