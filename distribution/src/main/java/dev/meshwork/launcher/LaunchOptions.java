package dev.meshwork.launcher;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The command line of {@code java -jar meshwork.jar}.
 *
 * @param command    {@code run} (default), {@code demo}, {@code identity}, {@code config-reference} or {@code export-runtime}
 * @param config     the configuration file, if given
 * @param dataDir    overrides {@code data.dir}
 * @param bundlesDir the drop-in directory watched by FileInstall
 * @param shell      whether to start the Gogo shell on the terminal
 * @param logLevel   trace, debug, info, warn or error
 * @param help       print usage and exit
 */
record LaunchOptions(String command, Optional<Path> config, Optional<Path> dataDir, Path bundlesDir, boolean shell,
        String logLevel, boolean help, Optional<Path> runtime, Optional<Path> exportTo) {

    private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error");

    static final String USAGE = String.join(System.lineSeparator(),
            "Usage: java -jar meshwork.jar [run|demo] [options]",
            "       java -jar meshwork.jar export-runtime DIR",
            "       java -jar meshwork.jar config-reference",
            "       java -jar meshwork.jar identity [--data DIR] [--config FILE]",
            "",
            "Starts a Meshwork node: Apache Felix with SCR, ConfigAdmin, FileInstall and every Meshwork bundle.",
            "",
            "identity creates the node's key pair in the data directory if it has none (without starting the",
            "node) and prints the node id and the public key in the form peers.NAME.publicKey takes.",
            "",
            "Options:",
            "  --config FILE      configuration file (.yaml, .yml or .properties); without it the node",
            "                     starts on embedded defaults (listening on ws://127.0.0.1:7400/mesh)",
            "  --data DIR         data directory (node identity, outbox database, health state); default ./data",
            "  --bundles DIR      drop-in directory for extension bundles, watched while the node runs;",
            "                     default ./bundles",
            "  --shell            start the Gogo shell (mesh:*, outbox:*, health:*, gateway:* commands)",
            "  --log-level LEVEL  trace, debug, info (default), warn or error",
            "  --runtime DIR      run the bundles in DIR instead of the embedded ones (a custom distribution;",
            "                     export-runtime DIR writes the embedded set there to start from)",
            "  --help             print this help",
            "",
            "Configuration values can be overridden by environment variables (MESHWORK_NODE_ID=alpha) and",
            "system properties (-Dmeshwork.node.id=alpha); an edited file is applied while the node runs.");

    static LaunchOptions parse(List<String> args) throws LaunchException {
        String command = "run";
        Path config = null;
        Path data = null;
        Path bundles = Path.of("bundles");
        boolean shell = false;
        boolean help = false;
        String level = "info";
        Path runtime = null;
        Path exportTo = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--help", "-h" -> help = true;
                case "--shell" -> shell = true;
                case "--config" -> config = Path.of(value(args, ++i, arg));
                case "--data" -> data = Path.of(value(args, ++i, arg));
                case "--bundles" -> bundles = Path.of(value(args, ++i, arg));
                case "--runtime" -> runtime = Path.of(value(args, ++i, arg));
                case "export-runtime" -> {
                    if (i != 0) {
                        throw new LaunchException(LaunchException.USAGE, "the command '" + arg + "' must come first");
                    }
                    command = arg;
                    exportTo = Path.of(value(args, ++i, arg));
                }
                case "--log-level" -> {
                    level = value(args, ++i, arg).toLowerCase(Locale.ROOT);
                    if (!LEVELS.contains(level)) {
                        throw new LaunchException(LaunchException.USAGE,
                                "--log-level must be one of trace, debug, info, warn, error: '" + level + "'");
                    }
                }
                case "run", "demo", "config-reference", "identity" -> {
                    if (i != 0) {
                        throw new LaunchException(LaunchException.USAGE, "the command '" + arg + "' must come first");
                    }
                    command = arg;
                }
                default -> throw new LaunchException(LaunchException.USAGE,
                        "unknown argument '" + arg + "' (try --help)");
            }
        }
        return new LaunchOptions(command, Optional.ofNullable(config), Optional.ofNullable(data), bundles, shell, level, help,
                Optional.ofNullable(runtime), Optional.ofNullable(exportTo));
    }

    private static String value(List<String> args, int index, String option) throws LaunchException {
        if (index >= args.size() || args.get(index).startsWith("--")) {
            throw new LaunchException(LaunchException.USAGE, option + " needs a value (try --help)");
        }
        return args.get(index);
    }
}
