package dev.meshwork.launcher;

/**
 * A problem the user can fix (bad option, bad configuration, port in use), reported as one line
 * on stderr and a non-zero exit code — never a stack trace.
 */
final class LaunchException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Exit code for bad command-line usage. */
    static final int USAGE = 64;
    /** Exit code for bad configuration (EX_CONFIG). */
    static final int CONFIG = 78;
    /** Exit code for a node that could not start (a component failed, a port is in use). */
    static final int STARTUP = 1;

    private final int exitCode;

    LaunchException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    LaunchException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
