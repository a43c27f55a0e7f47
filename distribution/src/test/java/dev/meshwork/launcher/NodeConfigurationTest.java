package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigurationTest {

    private static final String METATYPE = """
            <?xml version="1.0" encoding="UTF-8"?>
            <metatype:MetaData xmlns:metatype="http://www.osgi.org/xmlns/metatype/v1.4.0">
              <OCD id="node" name="Node">
                <AD id="id" type="String" default=""/>
                <AD id="listen" type="String" cardinality="2147483647" default="ws://127.0.0.1:7400/mesh"/>
                <AD id="pingIntervalMillis" type="Integer" default="250"/>
                <AD id="verifyPeers" type="Boolean" default="true"/>
                <AD id="mode" type="String" default="fast">
                  <Option label="fast" value="fast"/>
                  <Option label="safe" value="safe"/>
                </AD>
              </OCD>
              <Designate pid="dev.meshwork.node"><Object ocdref="node"/></Designate>
              <OCD id="peer" name="Peer">
                <AD id="node" type="String"/>
                <AD id="urls" type="String" cardinality="100"/>
                <AD id="publicKey" type="String" default=""/>
              </OCD>
              <Designate factoryPid="dev.meshwork.peer"><Object ocdref="peer"/></Designate>
            </metatype:MetaData>
            """;

    @TempDir
    Path dir;

    private MetatypeCatalog catalog;

    @BeforeEach
    void readMetatype() throws Exception {
        Map<String, MetatypeCatalog.PidSchema> schemas = new HashMap<>();
        MetatypeCatalog.parse(METATYPE.getBytes(StandardCharsets.UTF_8), schemas);
        catalog = new MetatypeCatalog(schemas);
    }

    private NodeConfiguration.Resolved resolve(String fileName, String content, Map<String, String> env,
            Map<Object, Object> sys) throws Exception {
        Path file = dir.resolve(fileName);
        Files.writeString(file, content);
        return NodeConfiguration.resolve(new ConfigSources(Optional.of(file), env, sys).read(), catalog);
    }

    @Test
    void mapsYamlSectionsToPidsWithTypedValues() throws Exception {
        var resolved = resolve("node.yaml", """
                node:
                  id: alpha
                  listen: ["ws://127.0.0.1:7500/mesh", "ws://[::1]:7500/mesh"]
                  pingIntervalMillis: 100
                  verifyPeers: false
                peers:
                  beta:
                    node: beta
                    urls:
                      - ws://127.0.0.1:7401/mesh
                      - ws://127.0.0.1:7411/mesh
                data.dir: /var/lib/meshwork
                """, Map.of(), Map.of());
        Map<String, Object> node = resolved.pids().get(PidKey.singleton("dev.meshwork.node"));
        assertEquals("alpha", node.get("id"));
        assertArrayEquals(new String[] {"ws://127.0.0.1:7500/mesh", "ws://[::1]:7500/mesh"}, (String[]) node.get("listen"));
        assertEquals(100, node.get("pingIntervalMillis"));
        assertEquals(Boolean.FALSE, node.get("verifyPeers"));
        Map<String, Object> beta = resolved.pids().get(PidKey.factory("dev.meshwork.peer", "beta"));
        assertArrayEquals(new String[] {"ws://127.0.0.1:7401/mesh", "ws://127.0.0.1:7411/mesh"}, (String[]) beta.get("urls"));
        assertEquals(Path.of("/var/lib/meshwork"), resolved.dataDir().orElseThrow());
    }

    @Test
    void readsPropertiesFilesWithCommaSeparatedLists() throws Exception {
        var resolved = resolve("node.properties", """
                node.id = alpha
                peers.beta.node = beta
                peers.beta.urls = ws://127.0.0.1:7401/mesh, ws://127.0.0.1:7411/mesh
                """, Map.of(), Map.of());
        assertEquals(2, ((String[]) resolved.pids().get(PidKey.factory("dev.meshwork.peer", "beta")).get("urls")).length);
    }

    @Test
    void environmentOverridesTheFileAndSystemPropertiesOverrideBoth() throws Exception {
        String yaml = "node:\n  id: from-file\n  pingIntervalMillis: 100\n";
        var env = resolve("a.yaml", yaml, Map.of("MESHWORK_NODE_ID", "from-env", "MESHWORK_NODE_PINGINTERVALMILLIS", "50"), Map.of());
        assertEquals("from-env", env.pids().get(PidKey.singleton("dev.meshwork.node")).get("id"));
        assertEquals(50, env.pids().get(PidKey.singleton("dev.meshwork.node")).get("pingIntervalMillis"));
        var sys = resolve("b.yaml", yaml, Map.of("MESHWORK_NODE_ID", "from-env"), Map.of("meshwork.node.id", "from-sys"));
        assertEquals("from-sys", sys.pids().get(PidKey.singleton("dev.meshwork.node")).get("id"));
    }

    @Test
    void interpolatesOtherKeysAndTheEnvironment() throws Exception {
        var resolved = resolve("i.yaml", """
                base: 127.0.0.1
                node:
                  listen: ws://${base}:7600/mesh
                  id: node-${sys:java.specification.version}
                """.replace("base: 127.0.0.1\n", ""), Map.of(), Map.of());
        assertEquals("node-" + System.getProperty("java.specification.version"),
                resolved.pids().get(PidKey.singleton("dev.meshwork.node")).get("id"));
    }

    @Test
    void anUnknownKeyIsAOneLineErrorNamingTheKeyAndFile() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("bad.yaml", "node:\n  pingIntervalMilis: 5\n", Map.of(), Map.of()));
        assertEquals(LaunchException.CONFIG, e.exitCode());
        assertTrue(e.getMessage().contains("bad.yaml") && e.getMessage().contains("node.pingIntervalMilis"), e.getMessage());
        assertTrue(e.getMessage().contains("pingIntervalMillis"), "lists the accepted keys: " + e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void anUnknownSectionIsRefused() {
        LaunchException e = assertThrows(LaunchException.class, () -> resolve("s.yaml", "nodes:\n  id: x\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("unknown configuration key 'nodes.id'"), e.getMessage());
    }

    @Test
    void aValueOfTheWrongTypeNamesTheKey() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("t.yaml", "node:\n  pingIntervalMillis: soon\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("'node.pingIntervalMillis' must be an integer, got 'soon'"), e.getMessage());
    }

    @Test
    void aValueOutsideItsOptionsIsRefused() {
        LaunchException e = assertThrows(LaunchException.class, () -> resolve("o.yaml", "node:\n  mode: turbo\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("must be one of [fast, safe]"), e.getMessage());
    }

    @Test
    void aBadEnvironmentVariableIsNamed() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("e.yaml", "node:\n  id: a\n", Map.of("MESHWORK_NODE_COLOUR", "red"), Map.of()));
        assertTrue(e.getMessage().startsWith("environment variable MESHWORK_NODE_COLOUR"), e.getMessage());
    }

    @Test
    void aSectionWhoseBundleIsMissingSaysSo() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("g.yaml", "gateways:\n  gw:\n    command: /bin/true\n", Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("no bundle in this distribution accepts"), e.getMessage());
    }

    @Test
    void malformedYamlIsAOneLineError() {
        LaunchException e = assertThrows(LaunchException.class,
                () -> resolve("m.yaml", "node:\n  id: [unclosed\n", Map.of(), Map.of()));
        assertEquals(LaunchException.CONFIG, e.exitCode());
        assertTrue(e.getMessage().startsWith(dir.resolve("m.yaml").toString()), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void aMissingOrWronglyNamedFileIsRefusedBeforeReading() {
        LaunchException missing = assertThrows(LaunchException.class,
                () -> new ConfigSources(Optional.of(dir.resolve("none.yaml")), Map.of(), Map.of()));
        assertTrue(missing.getMessage().endsWith("does not exist"), missing.getMessage());
        LaunchException wrongType = assertThrows(LaunchException.class, () -> resolve("node.json", "{}", Map.of(), Map.of()));
        assertTrue(wrongType.getMessage().contains(".yaml, .yml or .properties"), wrongType.getMessage());
    }

    @Test
    void theConfigurationReferenceListsEverySectionKeyTypeAndDefault() {
        String reference = ConfigReference.markdown(catalog);
        assertTrue(reference.contains("### `node.KEY` — PID `dev.meshwork.node`"), reference);
        assertTrue(reference.contains("### `peers.NAME.KEY` — factory PID `dev.meshwork.peer~NAME`"), reference);
        assertTrue(reference.contains("| `pingIntervalMillis` | Integer | `250` |"), reference);
        assertTrue(reference.contains("| `urls` | String[] | (required) |"), reference);
        assertTrue(reference.contains("One of: fast, safe."), reference);
    }
}
