package dev.meshwork.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Checks that the generated Karaf features repository agrees with the generated OSGi repository
 * index and with the bndrun the build resolved, so the three descriptions of a node cannot drift.
 *
 * <p>It reads the build's outputs (paths from system properties set in the pom), not copies: the
 * index and the resolution run before the test phase.
 */
class FeaturesRepositoryTest {

    /** Features every Karaf instance defines; the features file may name them without defining them. */
    private static final Set<String> KARAF_FEATURES = Set.of("scr");

    /** Runtime services the launcher (and the bndrun) adds, which Karaf provides itself. */
    private static final Set<String> CONTAINER_BUNDLES = Set.of(
            "org.apache.felix.scr", "org.apache.felix.configadmin", "org.apache.felix.fileinstall",
            "org.apache.felix.gogo.runtime", "org.apache.felix.gogo.shell", "org.apache.felix.gogo.command");

    private static final Pattern MVN = Pattern.compile(
            "mvn:([^/\\s]+)/([^/\\s]+)/([^/\\s]+)(?:/([^/\\s]*)(?:/([^/\\s]+))?)?");
    private static final Pattern RUNBUNDLE = Pattern.compile("([A-Za-z0-9_.\\-]+);version=");

    private record Feature(String name, List<String> bundles, List<String> features) {}

    private static Map<String, Feature> features;
    /** Index location (relative URL) to bundle symbolic name, for bundles and fragments. */
    private static Map<String, String> indexBsnByUrl;

    @BeforeAll
    static void readBuildOutputs() throws Exception {
        features = readFeatures(path("meshwork.features.xml"));
        indexBsnByUrl = readIndex(path("meshwork.repository.index"));
    }

    @Test
    void featuresFileIsValidAgainstKarafsFeaturesSchema() throws Exception {
        var xsd = FeaturesRepositoryTest.class.getResource("/org/apache/karaf/features/karaf-features-1.6.0.xsd");
        assertTrue(xsd != null, "Karaf's features schema is not on the test classpath");
        var validator = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI).newSchema(xsd).newValidator();
        // throws SAXParseException with line and column on the first violation
        validator.validate(new StreamSource(path("meshwork.features.xml").toFile()));
    }

    @Test
    void everyBundleIsAnMvnUrlWithItsVersionFilledIn() {
        List<String> bad = allBundleUrls().stream()
                .filter(url -> !MVN.matcher(url).matches() || url.contains("${"))
                .toList();
        assertTrue(bad.isEmpty(), "not a complete mvn: URL: " + bad);
    }

    @Test
    void everyBundleOfEveryFeatureIsAJarInTheIndex() {
        List<String> missing = allBundleUrls().stream()
                .filter(url -> !indexBsnByUrl.containsKey(indexLocation(url)))
                .toList();
        assertTrue(missing.isEmpty(), "in features.xml but not in index.xml: " + missing
                + "; index has " + new TreeSet<>(indexBsnByUrl.keySet()));
    }

    @Test
    void noBundleIsListedTwiceNorInTwoVersions() {
        List<String> urls = allBundleUrls();
        Set<String> seen = new LinkedHashSet<>();
        List<String> repeated = urls.stream().filter(url -> !seen.add(url)).toList();
        assertTrue(repeated.isEmpty(), "listed in more than one place (reference the feature instead): " + repeated);

        Map<String, List<String>> urlsByBsn = urls.stream()
                .filter(url -> indexBsnByUrl.containsKey(indexLocation(url)))
                .collect(Collectors.groupingBy(url -> indexBsnByUrl.get(indexLocation(url))));
        urlsByBsn.forEach((bsn, list) -> assertEquals(1, list.size(), bsn + " comes from " + list));
    }

    @Test
    void indexHoldsOneVersionOfEachBundle() {
        Map<String, List<String>> urlsByBsn = indexBsnByUrl.entrySet().stream()
                .collect(Collectors.groupingBy(Map.Entry::getValue,
                        Collectors.mapping(Map.Entry::getKey, Collectors.toList())));
        urlsByBsn.forEach((bsn, urls) -> assertEquals(1, urls.size(), bsn + " is indexed more than once: " + urls));
    }

    @Test
    void everyReferencedFeatureIsDefinedHereOrByKaraf() {
        List<String> undefined = features.values().stream()
                .flatMap(f -> f.features().stream())
                .filter(name -> !features.containsKey(name) && !KARAF_FEATURES.contains(name))
                .toList();
        assertTrue(undefined.isEmpty(), "referenced but not defined: " + undefined);
    }

    @Test
    void meshworkFeatureHoldsEveryBundleOfTheFileAndEveryMeshworkBundleOfTheIndex() {
        Set<String> full = bundleClosure("meshwork");
        Set<String> everything = new TreeSet<>(allBundleUrls());
        everything.removeAll(full);
        assertTrue(everything.isEmpty(), "in a smaller feature but not in meshwork: " + everything);

        Set<String> fullBsns = bsns(full);
        List<String> meshworkInIndex = indexBsnByUrl.values().stream()
                .filter(bsn -> bsn.startsWith("dev.meshwork."))
                .filter(bsn -> !fullBsns.contains(bsn))
                .toList();
        assertTrue(meshworkInIndex.isEmpty(), "indexed Meshwork bundles missing from feature meshwork: " + meshworkInIndex);
    }

    @Test
    void everyFeatureWithMeshworkBundlesGetsDeclarativeServices() {
        for (Feature feature : features.values()) {
            boolean hasComponents = bundleClosure(feature.name()).stream().anyMatch(url -> url.startsWith("mvn:dev.meshwork/"));
            if (hasComponents) {
                assertTrue(featureClosure(feature.name()).contains("scr"), feature.name() + " does not reach feature scr");
            }
        }
    }

    @Test
    void coreFeatureLeavesOutTheOptionalCapabilities() {
        Set<String> core = bsns(bundleClosure("meshwork-core"));
        assertTrue(core.containsAll(Set.of("dev.meshwork.api", "dev.meshwork.transport.multichannel",
                "dev.meshwork.transport.ws", "com.google.protobuf", "io.netty.codec-http")), "core: " + core);
        for (String optional : List.of("dev.meshwork.console", "dev.meshwork.supervisor",
                "dev.meshwork.outbox.sqlite", "dev.meshwork.health", "org.xerial.sqlite-jdbc")) {
            assertFalse(core.contains(optional), "meshwork-core should not contain " + optional);
        }
        assertTrue(bsns(bundleClosure("meshwork-outbox")).contains("org.xerial.sqlite-jdbc"),
                "meshwork-outbox must bring its SQLite driver");
    }

    @Test
    void meshworkFeatureInstallsWhatTheResolvedNodeRuns() throws IOException {
        Set<String> resolved = runBundles("meshwork.bndrun");
        resolved.removeAll(CONTAINER_BUNDLES);
        assertEquals(resolved, new TreeSet<>(bsns(bundleClosure("meshwork"))),
                "feature meshwork and the resolved meshwork.bndrun (minus SCR, ConfigAdmin, FileInstall, Gogo) differ");
    }

    @Test
    void minimalRunLeavesOutSupervisorAndConsole() throws IOException {
        Set<String> minimal = runBundles("minimal.bndrun");
        assertTrue(minimal.contains("dev.meshwork.api") && minimal.contains("dev.meshwork.transport.multichannel"),
                "minimal: " + minimal);
        assertFalse(minimal.contains("dev.meshwork.supervisor"), "minimal: " + minimal);
        assertFalse(minimal.contains("dev.meshwork.console"), "minimal: " + minimal);
    }

    // --- reading the build outputs ---

    private static Path path(String property) {
        String value = System.getProperty(property);
        assertTrue(value != null, "system property " + property + " is not set (run through Maven)");
        Path path = Path.of(value);
        assertTrue(Files.isRegularFile(path), path + " does not exist");
        return path;
    }

    private static Document parse(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(file.toFile());
    }

    private static Map<String, Feature> readFeatures(Path file) throws Exception {
        Map<String, Feature> result = new LinkedHashMap<>();
        NodeList nodes = parse(file).getElementsByTagNameNS("*", "feature");
        for (int i = 0; i < nodes.getLength(); i++) {
            Element element = (Element) nodes.item(i);
            if (!(element.getParentNode() instanceof Element parent) || !parent.getLocalName().equals("features")) {
                continue; // a reference inside a feature, not a definition
            }
            List<String> bundles = new ArrayList<>();
            List<String> refs = new ArrayList<>();
            NodeList children = element.getChildNodes();
            for (int j = 0; j < children.getLength(); j++) {
                if (children.item(j) instanceof Element child) {
                    switch (child.getLocalName()) {
                        case "bundle" -> bundles.add(child.getTextContent().trim());
                        case "feature" -> refs.add(child.getTextContent().trim());
                        default -> { }
                    }
                }
            }
            String name = element.getAttribute("name");
            assertTrue(result.put(name, new Feature(name, bundles, refs)) == null, "feature defined twice: " + name);
        }
        assertFalse(result.isEmpty(), "no features in " + file);
        return result;
    }

    private static Map<String, String> readIndex(Path file) throws Exception {
        Map<String, String> result = new HashMap<>();
        NodeList resources = parse(file).getElementsByTagNameNS("*", "resource");
        for (int i = 0; i < resources.getLength(); i++) {
            Element resource = (Element) resources.item(i);
            Map<String, String> identity = attributes(resource, "osgi.identity");
            Map<String, String> content = attributes(resource, "osgi.content");
            String type = identity.get("type");
            if (!"osgi.bundle".equals(type) && !"osgi.fragment".equals(type)) {
                continue;
            }
            String previous = result.put(content.get("url"), identity.get("osgi.identity"));
            assertTrue(previous == null, "indexed twice: " + content.get("url"));
        }
        return result;
    }

    private static Map<String, String> attributes(Element resource, String namespace) {
        Map<String, String> result = new HashMap<>();
        NodeList capabilities = resource.getElementsByTagNameNS("*", "capability");
        for (int i = 0; i < capabilities.getLength(); i++) {
            Element capability = (Element) capabilities.item(i);
            if (namespace.equals(capability.getAttribute("namespace"))) {
                NodeList attrs = capability.getElementsByTagNameNS("*", "attribute");
                for (int j = 0; j < attrs.getLength(); j++) {
                    Element attr = (Element) attrs.item(j);
                    result.put(attr.getAttribute("name"), attr.getAttribute("value"));
                }
                return result;
            }
        }
        return result;
    }

    private static Set<String> runBundles(String bndrun) throws IOException {
        Path resolved = Path.of(System.getProperty("meshwork.bndruns.dir", "target/bndruns"), bndrun);
        assertTrue(Files.isRegularFile(resolved), resolved + " does not exist: did the resolution run?");
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(resolved)) {
            properties.load(reader);
        }
        String value = properties.getProperty("-runbundles", "");
        Set<String> bsns = new TreeSet<>();
        Matcher matcher = RUNBUNDLE.matcher(value);
        while (matcher.find()) {
            bsns.add(matcher.group(1));
        }
        assertFalse(bsns.isEmpty(), bndrun + " has no -runbundles: did the resolution run?");
        return bsns;
    }

    // --- the model ---

    /** Where copy-dependencies put the jar of an mvn: URL, relative to index.xml. */
    private static String indexLocation(String mvnUrl) {
        Matcher m = MVN.matcher(mvnUrl);
        if (!m.matches()) {
            return mvnUrl;
        }
        String classifier = m.group(5) == null ? "" : "-" + m.group(5);
        String type = m.group(4) == null || m.group(4).isEmpty() ? "jar" : m.group(4);
        return "bundles/" + m.group(2) + "-" + m.group(3) + classifier + "." + type;
    }

    private static List<String> allBundleUrls() {
        return features.values().stream().flatMap(f -> f.bundles().stream()).toList();
    }

    private static Set<String> featureClosure(String name) {
        Set<String> reached = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(name));
        while (!todo.isEmpty()) {
            String next = todo.pop();
            if (reached.add(next) && features.containsKey(next)) {
                todo.addAll(features.get(next).features());
            }
        }
        return reached;
    }

    private static Set<String> bundleClosure(String name) {
        assertTrue(features.containsKey(name), "no feature " + name);
        return featureClosure(name).stream()
                .filter(features::containsKey)
                .flatMap(f -> features.get(f).bundles().stream())
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private static Set<String> bsns(Set<String> mvnUrls) {
        return mvnUrls.stream()
                .map(url -> indexBsnByUrl.getOrDefault(indexLocation(url), url))
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
