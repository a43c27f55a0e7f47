package dev.meshwork.launcher;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * Waits until the node is up and says where it listens, or finds the component that failed and
 * says why in one line.
 *
 * <p>The Router lives in a bundle, so it is reached by service name and reflection; the launcher
 * does not put Meshwork's api on its own classpath.
 */
final class StartupReport {

    static final String ROUTER = "dev.meshwork.api.router.Router";

    private final BundleContext context;

    StartupReport(BundleContext context) {
        this.context = context;
    }

    /**
     * The line to print once the node is up, or empty if the framework was stopped meanwhile
     * (a signal during start-up); throws a one-line failure otherwise.
     */
    Optional<String> await(Duration timeout) throws LaunchException {
        try {
            return Optional.of(awaitUp(timeout));
        } catch (IllegalStateException stopping) {
            // The bundle context became invalid: the framework is stopping.
            return Optional.empty();
        }
    }

    private String awaitUp(Duration timeout) throws LaunchException {
        boolean hasRouter = List.of(context.getBundles()).stream()
                .anyMatch(b -> "dev.meshwork.transport.multichannel".equals(b.getSymbolicName())
                        && b.getHeaders().get("Service-Component") != null);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<String> failure = componentFailure();
            if (failure.isPresent()) {
                throw new LaunchException(LaunchException.STARTUP, failure.get());
            }
            if (!hasRouter) {
                return "Meshwork node started without a router bundle (" + context.getBundles().length + " bundles)";
            }
            ServiceReference<?> reference = context.getServiceReference(ROUTER);
            if (reference != null) {
                Object router = context.getService(reference);
                if (router != null) {
                    try {
                        return describe(router);
                    } finally {
                        context.ungetService(reference);
                    }
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new LaunchException(LaunchException.STARTUP, "the router did not start within " + timeout.toSeconds()
                        + " s" + unsatisfied().map(s -> ": " + s).orElse(""));
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LaunchException(LaunchException.STARTUP, "interrupted while starting");
            }
        }
    }

    private static String describe(Object router) throws LaunchException {
        try {
            Method localNode = router.getClass().getMethod("localNode");
            Method listenUris = router.getClass().getMethod("listenUris");
            Object node = localNode.invoke(router);
            List<?> uris = (List<?>) listenUris.invoke(router);
            return "Meshwork node " + node + " listening on " + (uris.isEmpty() ? "(no address)" : joined(uris));
        } catch (ReflectiveOperationException e) {
            throw new LaunchException(LaunchException.STARTUP, "cannot read the router's status: " + ConfigSources.oneLine(e));
        }
    }

    private static String joined(List<?> values) {
        StringBuilder text = new StringBuilder();
        for (Object value : values) {
            text.append(text.length() == 0 ? "" : ", ").append(value);
        }
        return text.toString();
    }

    /**
     * The component that failed to activate, as "component: reason". When one failure caused
     * others (a component whose reference could not be obtained because that service failed),
     * the cause is reported.
     */
    Optional<String> componentFailure() {
        ServiceComponentRuntime scr = scr();
        if (scr == null) {
            return Optional.empty();
        }
        String consequence = null;
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                if (configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    String failure = configuration.failure == null ? "activation failed" : firstLine(configuration.failure);
                    String line = description.name.substring(description.name.lastIndexOf('.') + 1) + ": " + failure;
                    if (!failure.contains("Unable to get service for reference")) {
                        return Optional.of(line);
                    }
                    consequence = consequence == null ? line : consequence;
                }
            }
        }
        return Optional.ofNullable(consequence);
    }

    private Optional<String> unsatisfied() {
        ServiceComponentRuntime scr = scr();
        if (scr == null) {
            return Optional.of("Declarative Services (SCR) is not running");
        }
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            if (!description.name.contains("Router")) {
                continue;
            }
            for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                if (configuration.unsatisfiedReferences.length > 0) {
                    return Optional.of(description.name + " waits for " + configuration.unsatisfiedReferences[0].name);
                }
            }
        }
        return Optional.empty();
    }

    private ServiceComponentRuntime scr() {
        ServiceReference<ServiceComponentRuntime> reference = context.getServiceReference(ServiceComponentRuntime.class);
        return reference == null ? null : context.getService(reference);
    }

    /**
     * SCR's failure text is a stack trace; the user gets its first message (the component's own
     * words, which name the key or address), or the first cause's when the top one says nothing.
     */
    static String firstLine(String failure) {
        String[] lines = failure.split("\\R");
        String line = stripType(lines[0].trim());
        if (line.isEmpty()) {
            for (String l : lines) {
                if (l.trim().startsWith("Caused by: ")) {
                    line = stripType(l.trim().substring("Caused by: ".length()));
                    if (!line.isEmpty()) {
                        break;
                    }
                }
            }
        }
        return line.isEmpty() ? lines[0].trim() : line;
    }

    /** "java.lang.IllegalStateException: port 7400 is in use" -> "port 7400 is in use". */
    private static String stripType(String line) {
        int colon = line.indexOf(": ");
        String type = colon > 0 ? line.substring(0, colon) : line;
        if (type.matches("[\\w.$]+(Exception|Error)(\\[\\w+\\])?")) {
            return colon > 0 ? line.substring(colon + 2).trim() : "";
        }
        return line;
    }

}
