package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.LifecycleController;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleListener;
import dev.meshwork.api.lifecycle.Probe;
import dev.meshwork.supervisor.internal.process.ProcessSpawner;
import dev.meshwork.supervisor.internal.process.ProcessTable;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One supervised gateway per {@code dev.meshwork.supervisor~NAME} configuration: builds a
 * {@link GatewaySupervisor} from the configuration and registers it as a
 * {@link LifecycleController} with {@code meshwork.gateway.name=NAME}.
 *
 * <p>Why it registers the controller itself rather than being it: the service property carries
 * the gateway's name, which comes from the configuration's PID. Probes and lifecycle listeners
 * are whiteboard services, followed dynamically: a probe type that appears later is used from the
 * next attempt on.
 */
@Designate(ocd = SupervisorConfiguration.class, factory = true)
@Component(configurationPid = "dev.meshwork.supervisor", configurationPolicy = ConfigurationPolicy.REQUIRE, service = {},
        immediate = true)
public final class ProcessSupervisor {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessSupervisor.class);

    private final Map<String, Probe> probes = new ConcurrentHashMap<>();
    private final List<LifecycleListener> listeners = new CopyOnWriteArrayList<>();
    private GatewaySupervisor supervisor;
    private ScheduledThreadPoolExecutor executor;
    private ServiceRegistration<LifecycleController> registration;
    private String name;
    private Path pidDir;

    @Reference(service = Probe.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindProbe(Probe probe, Map<String, Object> props) {
        Object type = props.get(Probe.TYPE);
        if (type != null) {
            probes.put(type.toString(), probe);
        } else {
            LOG.warn("a Probe service without {} is ignored", Probe.TYPE);
        }
    }

    void unbindProbe(Probe probe, Map<String, Object> props) {
        Object type = props.get(Probe.TYPE);
        if (type != null) {
            probes.remove(type.toString(), probe);
        }
    }

    @Reference(service = LifecycleListener.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindListener(LifecycleListener l) {
        listeners.add(l);
    }

    void unbindListener(LifecycleListener l) {
        listeners.remove(l);
    }

    @Activate
    void activate(BundleContext context, SupervisorConfiguration cfg, Map<String, Object> props) {
        Object pid = props.get(Constants.SERVICE_PID);
        name = ConfigMapper.name(cfg, pid == null ? null : pid.toString());
        String dataDir = Optional.ofNullable(context.getProperty("meshwork.data.dir")).orElse("data");
        pidDir = Path.of(dataDir, "gateways");
        SupervisorConfig config = ConfigMapper.map(cfg, name, pidDir);
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "meshwork-supervisor-" + name);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        ProcessTable table = new ProcessTable();
        supervisor = new GatewaySupervisor(config, new ProcessSpawner(table, System::nanoTime),
                type -> Optional.ofNullable(probes.get(type)), table::listener, new PidFile(pidDir, name, table),
                System::nanoTime, InstantSource.system(), executor, () -> ThreadLocalRandom.current().nextDouble(),
                this::fire);
        Hashtable<String, Object> sp = new Hashtable<>();
        sp.put(LifecycleController.NAME, name);
        registration = context.registerService(LifecycleController.class, supervisor, sp);
        if (cfg.autoStart()) {
            supervisor.start();
        }
    }

    @Modified
    void modified(SupervisorConfiguration cfg) {
        supervisor.reconfigure(ConfigMapper.map(cfg, name, pidDir));
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
        }
        long waitMs = supervisor.config().stopGrace().toMillis() + 5_000;
        try {
            supervisor.stop().get(waitMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.error("gateway {}: did not stop within {} ms: {}", name, waitMs, e.toString());
        }
        executor.shutdownNow();
    }

    private void fire(LifecycleEvent event) {
        for (LifecycleListener l : listeners) {
            try {
                l.onLifecycleEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("lifecycle listener {} failed on {}", l, event, e);
            }
        }
    }
}
