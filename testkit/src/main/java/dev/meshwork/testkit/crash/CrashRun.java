package dev.meshwork.testkit.crash;

import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The crash-and-restart schedule on two packaged nodes, shared by the distribution's
 * {@code CrashRestartIT} (bounded, in CI) and {@code ./bench crash} (a long soak).
 *
 * <p>alpha and beta are peers of each other; clients enqueue on alpha's console for beta's
 * {@link CrashProbe} topic, half of them with idempotency keys. A {@link Random} seeded with
 * {@link Settings#seed} draws each step: how long the nodes run under load, which node gets which
 * signal (alpha SIGKILL or SIGTERM, beta SIGKILL while deliveries flow), how long it stays down,
 * and whether alpha is signalled again while it starts. The same seed gives the same schedule;
 * the moments the signals land relative to the nodes' work still vary with the machine, which is
 * the point of running many. After the schedule both nodes run until alpha's outbox drains, stop
 * cleanly, and {@link CrashOracle} judges the databases and the handler's log.
 */
public final class CrashRun {

    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration STOP = Duration.ofSeconds(30);
    private static final Duration DRAIN = Duration.ofSeconds(120);
    /** The inbox's line at start for records a crashed receiver left in doubt (InboxReceiver.start). */
    private static final Pattern IN_DOUBT = Pattern.compile("outbox inbox: (\\d+) messages were being handled when this node last stopped");
    private static final Pattern BY_STATE = Pattern.compile("\"byState\":\\{([^}]*)\\}");

    /**
     * @param root      a fresh directory for both nodes
     * @param java      the java executable to run the nodes on
     * @param jar       the packaged meshwork.jar
     * @param seed      the schedule's seed
     * @param duration  how long the schedule runs (draining and judging come after)
     * @param log       where progress goes
     */
    public record Settings(Path root, Path java, Path jar, long seed, Duration duration, PrintStream log) {
    }

    private final Settings settings;
    private final Random random;
    private final List<String> schedule = new ArrayList<>();
    private final AtomicLong lastAccepted = new AtomicLong();
    private final long began = System.nanoTime();
    private int kills;
    private int uncleanStops;
    private double maxRecoverySeconds;

    private CrashRun(Settings settings) {
        this.settings = settings;
        this.random = new Random(settings.seed());
    }

    /** Runs the schedule and judges it; a run that cannot even finish fails naming its seed and what it did. */
    public static CrashReport run(Settings settings) throws Exception {
        CrashRun run = new CrashRun(settings);
        try {
            return run.run();
        } catch (Exception e) {
            throw new IllegalStateException("crash run with seed " + settings.seed() + " (rerun: -Dmeshwork.crash.seed=" + settings.seed()
                    + ") did not finish: " + e.getMessage() + "\n  schedule so far:\n    " + String.join("\n    ", run.schedule), e);
        }
    }

    private CrashReport run() throws Exception {
        Map<String, String> accepted = new ConcurrentHashMap<>();
        List<EnqueueClient> clients = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try (PackagedNode alpha = new PackagedNode("alpha", settings.root(), settings.java(), settings.jar());
                PackagedNode beta = new PackagedNode("beta", settings.root(), settings.java(), settings.jar())) {
            CrashProbe.writeBundle(beta.bundlesDir());
            alpha.createIdentity(START);
            beta.createIdentity(START);
            alpha.peerWith(beta);
            beta.peerWith(alpha);
            beta.launch();
            alpha.launch();
            beta.awaitUp(START);
            alpha.awaitUp(START);
            for (int i = 0; i < 4; i++) {
                EnqueueClient client = new EnqueueClient((i % 2 == 0 ? "keyed" : "plain") + i, alpha, "beta", i % 2 == 0, 25,
                        accepted, lastAccepted);
                clients.add(client);
                Thread thread = new Thread(client, "crash-client-" + i);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
            long deadline = System.nanoTime() + settings.duration().toNanos();
            while (System.nanoTime() < deadline) {
                step(alpha, beta);
            }
            clients.forEach(EnqueueClient::stop);
            for (Thread thread : threads) {
                thread.join(15_000);
            }
            awaitDrained(alpha);
            for (PackagedNode node : List.of(alpha, beta)) {
                if (node.terminate(STOP) != 0) {
                    uncleanStops++;
                    note("%s did not stop cleanly at the end", node.id);
                }
            }
            CrashOracle.Findings findings = CrashOracle.judge(accepted, alpha.dataDir().resolve("outbox.db"),
                    beta.dataDir().resolve("outbox.db"), beta.dataDir().resolve(CrashProbe.LOG), beta.sumLogged(IN_DOUBT));
            Map<String, Long> answers = new TreeMap<>();
            for (EnqueueClient client : clients) {
                client.answers.forEach((k, v) -> answers.merge(k, v.get(), Long::sum));
            }
            return new CrashReport(settings.seed(), kills, accepted.size(), findings, maxRecoverySeconds, answers, uncleanStops,
                    List.copyOf(schedule));
        }
    }

    /**
     * One step of the schedule, every random draw first so that the seed alone decides it. The
     * kinds of step, and the promise each one aims at:
     * <ul>
     *   <li>alpha SIGKILL or SIGTERM under load, requests in flight (accepted means durable;
     *       a clean stop turns nothing dead);</li>
     *   <li>beta SIGKILL while deliveries flow (at-least-once across a receiver crash);</li>
     *   <li>both down, alpha back first with a backlog for a peer that is still down (a restart
     *       does not drain before the router holds its configured peers);</li>
     *   <li>alpha signalled while it drains that backlog into a beta just back (a stop does not
     *       kill the in-flight window).</li>
     * </ul>
     * Any restart of alpha may be signalled again while it starts.
     */
    private void step(PackagedNode alpha, PackagedNode beta) throws Exception {
        long uptime = 500 + random.nextInt(3500);
        double pick = random.nextDouble();
        boolean term = random.nextDouble() < 0.4;
        long downtime = random.nextInt(1000);
        long betaDowntime = 500 + random.nextInt(2500);
        boolean againWhileStarting = random.nextDouble() < 0.3;
        long startDelay = 100 + random.nextInt(2500);
        boolean againTerm = random.nextBoolean();
        long drainDelay = random.nextInt(1500);
        String signal = term ? "SIGTERM" : "SIGKILL";

        Thread.sleep(uptime);
        if (pick < 0.45) {
            signal(alpha, term, true);
            Thread.sleep(downtime);
            note("alpha %s after %d ms up, down %d ms%s", signal, uptime, downtime,
                    restartAlpha(alpha, againWhileStarting, startDelay, againTerm));
        } else if (pick < 0.65) {
            signal(beta, false, true);
            Thread.sleep(downtime);
            beta.launch();
            beta.awaitUp(START);
            note("beta SIGKILL after %d ms up, down %d ms", uptime, downtime);
        } else if (pick < 0.85) {
            signal(beta, false, true);
            Thread.sleep(downtime);
            signal(alpha, term, true);
            String alphaBack = restartAlpha(alpha, againWhileStarting, startDelay, againTerm);
            Thread.sleep(betaDowntime);
            beta.launch();
            beta.awaitUp(START);
            note("both: beta SIGKILL after %d ms up, alpha %s %d ms later%s; beta down %d ms more", uptime, signal, downtime,
                    alphaBack, betaDowntime);
        } else {
            signal(beta, false, true);
            Thread.sleep(betaDowntime);
            beta.launch();
            beta.awaitUp(START);
            Thread.sleep(drainDelay);
            signal(alpha, term, true);
            Thread.sleep(downtime);
            note("draining: beta SIGKILL after %d ms up, down %d ms; alpha %s %d ms after beta was back, down %d ms%s", uptime,
                    betaDowntime, signal, drainDelay, downtime, restartAlpha(alpha, againWhileStarting, startDelay, againTerm));
        }
    }

    /** Starts alpha again (and signals it once more while it starts, if asked); waits until it accepts enqueues. */
    private String restartAlpha(PackagedNode alpha, boolean againWhileStarting, long startDelay, boolean againTerm) throws Exception {
        long restart = System.nanoTime();
        alpha.launch();
        String extra = "";
        if (againWhileStarting) {
            Thread.sleep(startDelay);
            if (alpha.isAlive()) {
                signal(alpha, againTerm, false);
                extra = String.format(Locale.ROOT, ", %s again %d ms into its start", againTerm ? "SIGTERM" : "SIGKILL", startDelay);
                restart = System.nanoTime();
                alpha.launch();
            }
        }
        alpha.awaitUp(START);
        long deadline = System.nanoTime() + START.toNanos();
        while (lastAccepted.get() < restart && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (lastAccepted.get() < restart) {
            throw new IllegalStateException("alpha accepted no enqueue within " + START + " of its restart");
        }
        double seconds = (lastAccepted.get() - restart) / 1e9;
        maxRecoverySeconds = Math.max(maxRecoverySeconds, seconds);
        return String.format(Locale.ROOT, "%s; accepting again %.1f s after the restart", extra, seconds);
    }

    private void signal(PackagedNode node, boolean term, boolean wasUp) throws InterruptedException {
        kills++;
        if (!term) {
            node.kill();
            return;
        }
        int code = node.terminate(STOP);
        // A SIGTERM before the launcher installs its handler ends the JVM with 143: not unclean.
        // A stop that hangs is, whenever it comes.
        if (code == -1 || (wasUp && code != 0)) {
            uncleanStops++;
            note("%s: SIGTERM ended with %s", node.id, code == -1 ? "no exit within " + STOP : "exit " + code);
        }
    }

    private void awaitDrained(PackagedNode alpha) throws InterruptedException {
        long deadline = System.nanoTime() + DRAIN.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> status = alpha.get("/status.json");
                Matcher m = BY_STATE.matcher(status.body());
                if (m.find()) {
                    last = m.group(1);
                    if (count(last, "pending") + count(last, "inflight") == 0) {
                        note("alpha's outbox drained: %s", last);
                        return;
                    }
                }
            } catch (java.io.IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        note("alpha's outbox did not drain within %s: %s", DRAIN, last);
    }

    private static long count(String byState, String state) {
        Matcher m = Pattern.compile("\"" + state + "\":(\\d+)").matcher(byState);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private void note(String format, Object... args) {
        String line = String.format(Locale.ROOT, "%6.1fs ", (System.nanoTime() - began) / 1e9) + String.format(Locale.ROOT, format, args);
        schedule.add(line);
        settings.log().println("crash: " + line);
        settings.log().flush();
    }
}
