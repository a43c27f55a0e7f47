package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LaunchOptionsTest {

    @Test
    void noArgumentsRunsANodeOnDefaults() throws Exception {
        LaunchOptions options = LaunchOptions.parse(List.of());
        assertEquals("run", options.command());
        assertTrue(options.config().isEmpty());
        assertEquals(Path.of("bundles"), options.bundlesDir());
        assertFalse(options.shell());
        assertEquals("info", options.logLevel());
    }

    @Test
    void readsEveryOption() throws Exception {
        LaunchOptions options = LaunchOptions.parse(List.of("run", "--config", "node.yaml", "--data", "/tmp/d",
                "--bundles", "ext", "--shell", "--log-level", "DEBUG"));
        assertEquals(Path.of("node.yaml"), options.config().orElseThrow());
        assertEquals(Path.of("/tmp/d"), options.dataDir().orElseThrow());
        assertEquals(Path.of("ext"), options.bundlesDir());
        assertTrue(options.shell());
        assertEquals("debug", options.logLevel());
    }

    @Test
    void refusesUnknownArgumentsWithAUsageExitCode() {
        LaunchException e = assertThrows(LaunchException.class, () -> LaunchOptions.parse(List.of("--confg", "x")));
        assertEquals(LaunchException.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("--confg"), e.getMessage());
    }

    @Test
    void refusesAnOptionWithoutItsValue() {
        LaunchException e = assertThrows(LaunchException.class, () -> LaunchOptions.parse(List.of("--config")));
        assertTrue(e.getMessage().contains("--config needs a value"), e.getMessage());
    }

    @Test
    void refusesAnUnknownLogLevel() {
        LaunchException e = assertThrows(LaunchException.class, () -> LaunchOptions.parse(List.of("--log-level", "loud")));
        assertTrue(e.getMessage().contains("loud"), e.getMessage());
    }

    @Test
    void helpPrintsUsageAndExitsZero() {
        var out = new java.io.ByteArrayOutputStream();
        int code = Main.run(List.of("--help"), new java.io.PrintStream(out, true), System.err);
        assertEquals(0, code);
        assertTrue(out.toString().startsWith("Usage: java -jar meshwork.jar"));
    }
}
