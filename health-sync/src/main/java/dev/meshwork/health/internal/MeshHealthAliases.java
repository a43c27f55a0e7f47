package dev.meshwork.health.internal;

import dev.meshwork.api.health.HealthView;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo commands {@code mesh:health} and {@code mesh:timeline NODE}: the names health's commands
 * had before they moved to the {@code health:} scope, kept so existing scripts and habits work.
 */
@Component(service = MeshHealthAliases.class, property = {"osgi.command.scope=mesh", "osgi.command.function=health",
        "osgi.command.function=timeline"})
public final class MeshHealthAliases {

    private final HealthCommands commands;

    @Activate
    public MeshHealthAliases(@Reference(name = "view") HealthView view) {
        this.commands = new HealthCommands(view);
    }

    /** Same as {@code health:view}. */
    public String health() {
        return commands.view();
    }

    /** Same as {@code health:timeline NODE}. */
    public String timeline(String node) {
        return commands.timeline(node);
    }
}
