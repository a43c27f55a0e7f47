package dev.meshwork.launcher;

import java.util.Objects;
import java.util.Optional;

/**
 * The ConfigAdmin identity of one configuration: a singleton PID, or a factory PID with the
 * instance name (ConfigAdmin 1.6 named factory configurations, {@code factoryPid~name}).
 */
record PidKey(String pid, Optional<String> name) {

    PidKey {
        Objects.requireNonNull(pid, "pid");
        Objects.requireNonNull(name, "name");
    }

    static PidKey singleton(String pid) {
        return new PidKey(pid, Optional.empty());
    }

    static PidKey factory(String factoryPid, String name) {
        return new PidKey(factoryPid, Optional.of(name));
    }

    boolean isFactory() {
        return name.isPresent();
    }

    @Override
    public String toString() {
        return name.map(n -> pid + "~" + n).orElse(pid);
    }
}
