package dev.meshwork.bench;

import dev.meshwork.testkit.crash.CrashReport;
import dev.meshwork.testkit.crash.CrashRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code ./bench crash [SECONDS [SEED]]}: the crash-and-restart soak, the same seeded schedule
 * and oracle as the distribution's {@code CrashRestartIT} ({@link CrashRun}, in testkit so that
 * both use one driver), run for longer (default 600 s, about 25 signals a minute) on the packaged
 * {@code distribution/target/meshwork.jar}.
 *
 * <p>Prints each step as it runs, then what broke (if anything) and the last line
 * {@code RESULT crash kills=N enqueued_ok=N lost=N dead=N duplicates_to_handler=N max_recovery_s=X},
 * where recovery is the time from alpha's restart command to its console accepting an enqueue.
 * The nodes' directories (logs of every start, databases, the handler's log) are kept when a
 * promise broke and removed otherwise.
 */
public final class CrashBench {

    private CrashBench() {
    }

    public static void main(String[] args) throws Exception {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 600;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : System.nanoTime();
        Path jar = Path.of(System.getProperty("meshwork.launcher.jar", "distribution/target/meshwork.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: ./bench builds it (the benchmarks module depends on the distribution)");
        }
        Path root = Files.createTempDirectory("meshwork-crash-");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        System.out.println("crash soak: seed " + seed + ", " + seconds + " s of schedule, nodes under " + root);
        CrashReport report = CrashRun.run(new CrashRun.Settings(root, java, jar, seed, Duration.ofSeconds(seconds), System.out));
        System.out.println();
        System.out.printf("%-28s %s%n", "signals (SIGKILL, SIGTERM)", report.kills());
        System.out.printf("%-28s %s%n", "enqueues accepted (2xx)", report.enqueuedOk());
        System.out.printf("%-28s %s%n", "client answers", report.answers());
        System.out.printf("%-28s %s%n", "outbox rows by state", report.findings().outboxByState());
        System.out.printf("%-28s %s%n", "lost / dead / left", report.findings().lost() + " / " + report.findings().dead() + " / "
                + report.findings().left());
        System.out.printf("%-28s %s (%s across a receiver crash; %s inbox records were in doubt at the receiver's starts)%n",
                "duplicates to the handler", report.findings().duplicatesToHandler(), report.findings().duplicatesAcrossReceiverCrash(),
                report.findings().inDoubtAtStarts());
        System.out.printf("%-28s %.1f s%n", "worst recovery", report.maxRecoverySeconds());
        if (report.violations().isEmpty()) {
            deleteTree(root);
        } else {
            System.out.println();
            System.out.print(report.describe());
            System.out.println("nodes' directories kept under " + root);
        }
        System.out.println(report.resultLine());
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
