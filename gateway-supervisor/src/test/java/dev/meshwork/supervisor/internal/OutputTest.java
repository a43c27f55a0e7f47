package dev.meshwork.supervisor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.supervisor.internal.SupervisorConfig.OutputSettings;
import dev.meshwork.supervisor.internal.output.LineClassifier;
import dev.meshwork.supervisor.internal.output.LineClassifier.Level;
import dev.meshwork.supervisor.internal.output.LineDeduplicator;
import dev.meshwork.supervisor.internal.output.OutputLog;
import dev.meshwork.supervisor.internal.output.Redactor;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/** Output handling: redaction, levels, de-duplication, the per-second cap, bounded lines. */
class OutputTest {

    private static final Pattern KEYS = Pattern.compile("(?i)secret|token|password|key");

    /** A Logger that records "level message" for every call. */
    private static Logger recording(List<String> lines) {
        return (Logger) Proxy.newProxyInstance(OutputTest.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, m, args) -> {
                    String n = m.getName();
                    if (n.startsWith("is")) {
                        return true;
                    }
                    if (List.of("trace", "debug", "info", "warn", "error").contains(n) && args != null) {
                        String msg = args[0].toString();
                        for (int i = 1; i < args.length; i++) {
                            Object a = args[i];
                            if (a instanceof Object[] arr) {
                                for (Object o : arr) {
                                    msg = msg.replaceFirst("\\{\\}", java.util.regex.Matcher.quoteReplacement(String.valueOf(o)));
                                }
                            } else {
                                msg = msg.replaceFirst("\\{\\}", java.util.regex.Matcher.quoteReplacement(String.valueOf(a)));
                            }
                        }
                        lines.add(n.toUpperCase() + " " + msg);
                        return null;
                    }
                    return n.equals("getName") ? "test" : null;
                });
    }

    @Test
    void secretsFromEnvironmentFlagsAndPairsNeverReachALine() {
        Redactor r = new Redactor(KEYS, Map.of("GATEWAY_TOKEN", "tok-123456", "HOME", "/home/gw"),
                List.of("/bin/gw", "--api-key", "k-abcdef", "--password=hunter22", "--port", "8080"));
        assertEquals("auth with *** ok", r.redact("auth with tok-123456 ok"));
        assertEquals("key *** and ***", r.redact("key k-abcdef and hunter22"));
        assertEquals("client_secret=*** user=bob", r.redact("client_secret=s3cr3tvalue user=bob"));
        assertEquals("home is /home/gw on port 8080", r.redact("home is /home/gw on port 8080"));
        assertEquals("/bin/gw --api-key *** --password=*** --port 8080",
                r.redactCommand(List.of("/bin/gw", "--api-key", "k-abcdef", "--password=hunter22", "--port", "8080")));
    }

    @Test
    void levelRulesApplyInOrderWithStreamDefaults() {
        LineClassifier c = new LineClassifier(List.of("DROP=^heartbeat ok", "ERROR=(?i)fatal", "DEBUG=(?i)verbose"));
        assertEquals(Level.DROP, c.classify("heartbeat ok 12", true));
        assertEquals(Level.ERROR, c.classify("FATAL: boom", false));
        assertEquals(Level.DEBUG, c.classify("verbose: x", true));
        assertEquals(Level.INFO, c.classify("hello", false));
        assertEquals(Level.WARN, c.classify("hello", true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LineClassifier(List.of("LOUD=x")));
        assertTrue(e.getMessage().startsWith("output.levels: bad rule 'LOUD=x'"), e.getMessage());
    }

    @Test
    void normalisationIgnoresTimestampsNumbersAndHex() {
        assertEquals(LineDeduplicator.normalise("2026-11-23T10:00:01.123Z retry 4 of 0xdeadbeef"),
                LineDeduplicator.normalise("2026-11-23T10:00:02.999Z retry 5 of 0x1234"));
        assertFalse(LineDeduplicator.normalise("retry failed").equals(LineDeduplicator.normalise("retry ok")));
    }

    @Test
    void repeatsAreSuppressedWithASummaryEveryNAndTheLruIsBounded() {
        LineDeduplicator d = new LineDeduplicator(3, 10, Long.MAX_VALUE);
        assertInstanceOf(LineDeduplicator.First.class, d.offer("retry 1", 0));
        for (int i = 2; i <= 10; i++) {
            assertInstanceOf(LineDeduplicator.Repeat.class, d.offer("retry " + i, 0));
        }
        LineDeduplicator.Verdict v = d.offer("retry 11", 0);
        assertInstanceOf(LineDeduplicator.Summary.class, v);
        assertEquals(10, ((LineDeduplicator.Summary) v).count());
        d.offer("a", 0);
        d.offer("b", 0);
        d.offer("c", 0);
        assertEquals(3, d.size(), "bounded");
        assertInstanceOf(LineDeduplicator.First.class, d.offer("retry 12", 0), "evicted, so seen afresh");
    }

    @Test
    void aLineOlderThanTheWindowIsLoggedAgain() {
        LineDeduplicator d = new LineDeduplicator(10, 100, 1000);
        d.offer("connected", 0);
        assertInstanceOf(LineDeduplicator.Repeat.class, d.offer("connected", 999));
        assertInstanceOf(LineDeduplicator.First.class, d.offer("connected", 1001));
    }

    private List<String> pump(String text, OutputSettings settings, Redactor redactor, OutputLog[] out) throws Exception {
        List<String> logged = new CopyOnWriteArrayList<>();
        OutputLog log = new OutputLog(recording(logged), redactor, new LineClassifier(settings.levelPatterns()), settings,
                () -> 0L);
        log.pump(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), true, "test-pump").get(5, java.util.concurrent.TimeUnit.SECONDS);
        out[0] = log;
        return logged;
    }

    @Test
    void aStderrFloodOfOneLineIsLoggedOnceWithSummaries() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            sb.append("warn: retry ").append(i).append(" at 2026-11-23T10:00:00Z\n");
        }
        OutputLog[] log = new OutputLog[1];
        List<String> logged = pump(sb.toString(), OutputSettings.DEFAULT, new Redactor(KEYS, Map.of(), List.of()), log);
        assertEquals(10, logged.size(), "first + a summary every 100 repeats: " + logged);
        assertTrue(logged.get(0).startsWith("WARN [stderr] warn: retry 0"));
        assertTrue(logged.get(1).contains("(repeated 100 times)"));
        assertEquals(500, log[0].recent().size(), "the buffer of recent lines is bounded");
        assertEquals(1000, log[0].linesSeen());
    }

    @Test
    void distinctLinesBeyondThePerSecondCapAreCountedNotLogged() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            sb.append("line ").append((char) ('a' + i % 26)).append((char) ('a' + i / 26)).append('\n');
        }
        OutputSettings s = new OutputSettings(List.of(), 256, 100, 50, 10);
        OutputLog[] log = new OutputLog[1];
        List<String> logged = pump(sb.toString(), s, new Redactor(KEYS, Map.of(), List.of()), log);
        assertEquals(11, logged.size(), logged.toString());
        assertTrue(logged.get(10).contains("40 lines not logged"), logged.get(10));
    }

    @Test
    void longLinesAreCutAndSecretsNeverKept() throws Exception {
        String huge = "x".repeat(100_000);
        OutputLog[] log = new OutputLog[1];
        pump(huge + "\nusing token=abcdef123\n", OutputSettings.DEFAULT,
                new Redactor(KEYS, Map.of(), List.of()), log);
        List<String> recent = log[0].recent();
        assertEquals(OutputLog.MAX_LINE, recent.get(0).length());
        assertEquals("using token=***", recent.get(1));
    }
}
