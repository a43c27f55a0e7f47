package dev.meshwork.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.health.internal.sync.SyncConfig;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The metatype keys of {@code dev.meshwork.health} as the component turns them into a {@link SyncConfig}. */
class HealthSyncConfigTest {

    /** The configuration as ConfigAdmin would give it: the declared defaults, except {@code values}. */
    private static HealthSyncConfig config(Map<String, Object> values) {
        return (HealthSyncConfig) Proxy.newProxyInstance(HealthSyncConfig.class.getClassLoader(),
                new Class<?>[] {HealthSyncConfig.class}, (proxy, method, args) -> {
                    Object v = values.get(method.getName());
                    return v != null ? v : method.getDefaultValue();
                });
    }

    @Test
    void theDefaultsAreTheEngineDefaults() {
        assertEquals(SyncConfig.DEFAULTS, ReplicatedHealthView.syncConfig(config(Map.of())));
    }

    @Test
    void theCatchUpBackoffKeysSetTheBackoff() {
        SyncConfig c = ReplicatedHealthView.syncConfig(config(Map.of("catchUpBackoffMillis", 50L,
                "catchUpMaxBackoffMillis", 800L)));
        assertEquals(Duration.ofMillis(50), c.catchUpBackoff().ceiling(0));
        assertEquals(Duration.ofMillis(800), c.catchUpBackoff().ceiling(10));
    }

    @Test
    void aCatchUpCapBelowItsBaseIsRejectedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReplicatedHealthView.syncConfig(
                config(Map.of("catchUpBackoffMillis", 500L, "catchUpMaxBackoffMillis", 100L))));
        assertTrue(e.getMessage().startsWith("dev.meshwork.health: catchUpMaxBackoffMillis"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReplicatedHealthView.syncConfig(
                config(Map.of("catchUpBackoffMillis", 0L))));
    }
}
