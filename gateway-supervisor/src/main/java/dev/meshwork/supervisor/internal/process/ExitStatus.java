package dev.meshwork.supervisor.internal.process;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a gateway process ended: an exit code, or the signal that killed it.
 *
 * <p>The JDK reports a death by signal N as exit value 128+N, like a shell does; so does this
 * record, which means a process that itself calls {@code exit(143)} reads as killed by SIGTERM.
 */
public record ExitStatus(OptionalInt code, Optional<String> signal) {

    private static final String[] NAMES = {null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
        "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM"};

    /** From the JDK's exit value. */
    public static ExitStatus fromExitValue(int value) {
        if (value > 128 && value < 128 + NAMES.length) {
            return new ExitStatus(OptionalInt.empty(), Optional.of("SIG" + NAMES[value - 128]));
        }
        return new ExitStatus(OptionalInt.of(value), Optional.empty());
    }

    /** An exit seen from outside (an adopted process): neither code nor signal is known. */
    public static ExitStatus unknown() {
        return new ExitStatus(OptionalInt.empty(), Optional.empty());
    }

    public String describe() {
        if (code.isPresent()) {
            return "exit code " + code.getAsInt();
        }
        return signal.map(s -> "killed by " + s).orElse("exited (status unknown)");
    }
}
