package dev.meshwork.supervisor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.lifecycle.LifecycleController;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The configuration mapping (keys, defaults, one-line errors) and the Gogo commands' output. */
class ConfigAndCommandsTest {

    /** An instance of the metatype annotation: defaults, with some keys overridden by method name. */
    static SupervisorConfiguration cfg(Map<String, Object> overrides) {
        return (SupervisorConfiguration) Proxy.newProxyInstance(SupervisorConfiguration.class.getClassLoader(),
                new Class<?>[] {SupervisorConfiguration.class}, (p, m, a) -> {
                    if (overrides.containsKey(m.getName())) {
                        return overrides.get(m.getName());
                    }
                    if (m.getName().equals("annotationType")) {
                        return SupervisorConfiguration.class;
                    }
                    return m.getDefaultValue();
                });
    }

    @Test
    void defaultsMatchTheIssue() {
        SupervisorConfig c = ConfigMapper.map(cfg(Map.of("command", "/usr/bin/gw", "args", new String[] {"--serve", ""})),
                "gw", Path.of("data/gateways"));
        assertEquals(List.of("/usr/bin/gw", "--serve"), c.command());
        assertEquals(Duration.ofSeconds(1), c.backoff().base());
        assertEquals(Duration.ofSeconds(30), c.backoff().cap());
        assertEquals(1.0, c.backoff().jitter());
        assertEquals(5, c.governorMax());
        assertEquals(Duration.ofSeconds(60), c.governorWindow());
        assertEquals(Duration.ofMinutes(5), c.slowRetry());
        assertEquals(3, c.heartbeatMisses());
        assertEquals(Duration.ofSeconds(5), c.stopGrace());
        assertEquals(Duration.ofSeconds(2), c.debounce());
        assertTrue(c.permanentExitCodes().contains(78));
    }

    @Test
    void nameComesFromTheFactoryPid() {
        assertEquals("openclaw", ConfigMapper.name(cfg(Map.of()), "dev.meshwork.supervisor~openclaw"));
        assertEquals("x", ConfigMapper.name(cfg(Map.of("name", "x")), "dev.meshwork.supervisor~openclaw"));
    }

    @Test
    void badValuesFailWithTheKeyNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(cfg(Map.of()), "gw", null))
                .getMessage().startsWith("command:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(
                cfg(Map.of("command", "gw", "reload_signal", "SIGFOO")), "gw", null)).getMessage().startsWith("reload.signal:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(
                cfg(Map.of("command", "gw", "env", new String[] {"TOKEN"})), "gw", null)).getMessage().startsWith("env:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(
                cfg(Map.of("command", "gw", "heartbeat_interval_ms", 0L)), "gw", null)).getMessage()
                .startsWith("heartbeat.interval.ms:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(
                cfg(Map.of("command", "gw", "output_levels", new String[] {"LOUD=x"})), "gw", null)).getMessage()
                .startsWith("output.levels:"));
    }

    @Test
    void reloadSignalAcceptsTheUsualSpellings() {
        assertEquals(Optional.of("USR1"), ConfigMapper.map(cfg(Map.of("command", "gw", "reload_signal", "SIGUSR1")), "gw", null)
                .reloadSignal());
        assertEquals(Optional.of("HUP"), ConfigMapper.map(cfg(Map.of("command", "gw", "reload_signal", "hup")), "gw", null)
                .reloadSignal());
    }

    @Test
    void blueGreenKeysMapWithDefaultsAndOneLineErrors() {
        Map<String, Object> ok = new java.util.HashMap<>(Map.of("command", "gw", "args", new String[] {"--port=${port}"},
                "port", 8080, "restart_strategy", "blue-green", "restart_alternatePort", 8081,
                "readiness_type", "tcp"));
        SupervisorConfig c = ConfigMapper.map(cfg(ok), "gw", null);
        assertEquals(8081, c.blueGreen().orElseThrow().alternatePort());
        assertEquals(Duration.ofSeconds(1), c.blueGreen().orElseThrow().drain());
        assertEquals(List.of("gw", "--port=8081"), c.forPort(8081).command());
        assertTrue(ConfigMapper.map(cfg(Map.of("command", "gw")), "gw", null).blueGreen().isEmpty(), "stop-start by default");

        Map<String, Object> noAlt = new java.util.HashMap<>(ok);
        noAlt.remove("restart_alternatePort");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(cfg(noAlt), "gw", null))
                .getMessage().startsWith("restart.alternatePort:"));
        Map<String, Object> same = new java.util.HashMap<>(ok);
        same.put("restart_alternatePort", 8080);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(cfg(same), "gw", null))
                .getMessage().startsWith("restart.alternatePort:"));
        Map<String, Object> noPlaceholder = new java.util.HashMap<>(ok);
        noPlaceholder.put("args", new String[] {"--port=8080"});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(cfg(noPlaceholder), "gw", null))
                .getMessage().contains("${port}"));
        Map<String, Object> envPlaceholder = new java.util.HashMap<>(noPlaceholder);
        envPlaceholder.put("env", new String[] {"GW_PORT=${port}"});
        assertEquals("8081", ConfigMapper.map(cfg(envPlaceholder), "gw", null).forPort(8081).env().get("GW_PORT"));
        Map<String, Object> noReadiness = new java.util.HashMap<>(ok);
        noReadiness.remove("readiness_type");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(cfg(noReadiness), "gw", null))
                .getMessage().startsWith("readiness.type:"));
        Map<String, Object> typo = new java.util.HashMap<>(ok);
        typo.put("restart_strategy", "green-blue");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigMapper.map(cfg(typo), "gw", null))
                .getMessage().startsWith("restart.strategy:"));
    }

    @Test
    void statusShowsTheActivePortAndTheSwitches() {
        LifecycleStatus s = new LifecycleStatus("gw", LifecycleState.SWITCHING, 4, OptionalLong.of(4242),
                Optional.of(Duration.ofSeconds(75)), 1, OptionalInt.empty(), Optional.empty(), Optional.empty(), List.of(),
                Optional.empty(), Instant.parse("2026-11-23T10:00:00Z"), Optional.of(new dev.meshwork.api.lifecycle.BlueGreenStatus(
                        "green", 8081, 8080, OptionalLong.of(4343), 3, 1, Optional.of("not ready within 30000 ms"))));
        String text = GatewayCommands.describe(s);
        assertTrue(text.contains("blue/green active port 8081 (green), standby 8080"), text);
        assertTrue(text.contains("switching: new pid 4343 starting on port 8080"), text);
        assertTrue(text.contains("switches  3 done, 1 failed"), text);
        assertTrue(text.contains("last failed switch not ready within 30000 ms"), text);
    }

    private static LifecycleController fake(String name, LifecycleState state) {
        LifecycleStatus s = new LifecycleStatus(name, state, 3, OptionalLong.of(4242), Optional.of(Duration.ofSeconds(75)), 2,
                OptionalInt.of(1), Optional.empty(), Optional.of("exited: exit code 1"), List.of("fatal: x"),
                Optional.empty(), Instant.parse("2026-11-23T10:00:00Z"));
        return new LifecycleController() {
            public String name() {
                return name;
            }

            public LifecycleStatus status() {
                return s;
            }

            public CompletableFuture<LifecycleStatus> start() {
                return CompletableFuture.completedFuture(s);
            }

            public CompletableFuture<LifecycleStatus> stop() {
                return CompletableFuture.completedFuture(s);
            }

            public CompletableFuture<LifecycleStatus> restart() {
                return CompletableFuture.completedFuture(s);
            }

            public CompletableFuture<LifecycleStatus> reload() {
                return CompletableFuture.failedFuture(new IllegalStateException("boom"));
            }
        };
    }

    @Test
    void commandsListDescribeRestartAndReload() {
        GatewayCommands cmd = new GatewayCommands(List.of(fake("b", LifecycleState.RUNNING), fake("a", LifecycleState.FAILED)));
        String list = cmd.list();
        assertTrue(list.indexOf("a ") < list.indexOf("b "), list);
        assertTrue(list.contains("FAILED") && list.contains("4242") && list.contains("1m15s"), list);
        String status = cmd.status("a");
        assertTrue(status.contains("last error exited: exit code 1") && status.contains("  fatal: x"), status);
        assertTrue(cmd.restart("b").startsWith("restart done"));
        assertEquals("reload failed: boom", cmd.reload("b"));
        assertEquals("no gateway named 'c' (known: a, b)", cmd.status("c"));
    }
}
