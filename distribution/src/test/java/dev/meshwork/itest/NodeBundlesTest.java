package dev.meshwork.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.Version;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The node's bundles in a real Felix framework: they resolve and start, every component that
 * needs no configuration comes up and registers its services, and only the api exports packages.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NodeBundlesTest {

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return MeshworkRuntime.options(name -> true);
    }

    private List<Bundle> meshworkBundles() {
        List<Bundle> result = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            String bsn = bundle.getSymbolicName();
            if (bsn != null && bsn.startsWith("dev.meshwork.")) {
                result.add(bundle);
            }
        }
        return result;
    }

    @Test
    public void everyBundleResolvesAndStarts() {
        List<String> notActive = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            boolean fragment = bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            int expected = fragment ? Bundle.RESOLVED : Bundle.ACTIVE;
            if (bundle.getState() != expected) {
                notActive.add(bundle.getSymbolicName() + " (state " + bundle.getState() + ")");
            }
        }
        assertTrue("bundles not started: " + notActive, notActive.isEmpty());
        List<String> names = meshworkBundles().stream().map(Bundle::getSymbolicName).sorted().toList();
        assertEquals(List.of("dev.meshwork.api", "dev.meshwork.console", "dev.meshwork.health", "dev.meshwork.outbox.sqlite",
                "dev.meshwork.supervisor", "dev.meshwork.transport.multichannel", "dev.meshwork.transport.ws"), names);
    }

    @Test
    public void everyComponentThatNeedsNoConfigurationRegistersItsServices() throws Exception {
        ServiceTracker<ServiceComponentRuntime, ServiceComponentRuntime> tracker =
                new ServiceTracker<>(context, ServiceComponentRuntime.class, null);
        tracker.open();
        ServiceComponentRuntime scr = tracker.waitForService(10_000);
        assertNotNull("SCR is running", scr);
        long deadline = System.currentTimeMillis() + 10_000;
        List<String> problems;
        do {
            problems = componentProblems(scr);
            if (problems.isEmpty()) {
                return;
            }
            Thread.onSpinWait();
        } while (System.currentTimeMillis() < deadline);
        fail("components not up after 10 s: " + problems);
    }

    private List<String> componentProblems(ServiceComponentRuntime scr) throws InvalidSyntaxException {
        List<String> problems = new ArrayList<>();
        for (Bundle bundle : meshworkBundles()) {
            for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs(bundle)) {
                if ("require".equals(description.configurationPolicy)) {
                    continue; // one per configured peer or gateway: none configured here
                }
                for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                    if (configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION
                            || configuration.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE
                            || configuration.state == ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION) {
                        problems.add(description.name + " state " + configuration.state
                                + (configuration.failure == null ? "" : ": " + configuration.failure.lines().findFirst().orElse("")));
                    }
                }
                for (String service : description.serviceInterfaces) {
                    if (context.getServiceReferences(service, "(component.name=" + description.name + ")") == null) {
                        problems.add(description.name + " has not registered " + service);
                    }
                }
            }
        }
        return problems;
    }

    @Test
    public void onlyTheApiExportsAndEveryExportIsVersioned() {
        for (Bundle bundle : meshworkBundles()) {
            String exports = bundle.getHeaders().get(Constants.EXPORT_PACKAGE);
            if (bundle.getSymbolicName().equals("dev.meshwork.api")) {
                assertNotNull("the api exports its packages", exports);
                for (String clause : exports.split(",(?=[a-z])")) {
                    String pkg = clause.split(";")[0].trim();
                    assertTrue("api exports only dev.meshwork.api packages: " + pkg, pkg.startsWith("dev.meshwork.api"));
                    String version = clause.replaceAll(".*version=\"([^\"]+)\".*", "$1");
                    assertTrue(pkg + " carries a version >= 1.0.0",
                            clause.contains("version=") && Version.parseVersion(version).compareTo(new Version(1, 0, 0)) >= 0);
                }
            } else {
                assertNull(bundle.getSymbolicName() + " exports nothing", exports);
            }
        }
    }
}
