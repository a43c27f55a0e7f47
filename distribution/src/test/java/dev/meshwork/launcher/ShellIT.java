package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshwork.jar --shell}: the Gogo shell on the launcher's stdin and stdout answers the
 * {@code mesh:*}, {@code outbox:*}, {@code health:*} and {@code gateway:*} commands (and Felix's
 * own {@code help} and {@code lb}) on a live two-node mesh, and the node stops cleanly — exit
 * code 0, its supervised gateway gone — on {@code exit 0}, on end of input, and on SIGTERM.
 */
class ShellIT {

    private static final Path JAVA = NodeProcess.javaExecutables().get(0);
    private static final Duration ANSWER = Duration.ofSeconds(20);
    private static final Pattern PROMPT = Pattern.compile("^(g! )+");

    @TempDir
    Path root;

    private final List<MeshNode> nodes = new ArrayList<>();
    private int marker;

    @AfterEach
    void stopAll() {
        nodes.forEach(MeshNode::close);
    }

    @Test
    void shellCommandsOfEveryScopeAnswerOnALiveMeshAndExitStopsTheNode() throws Exception {
        MeshNode alpha = node("alpha", 1);
        MeshNode beta = node("beta", 1);
        alpha.extraYaml("gateways:\n  sleeper:\n    command: /bin/sleep\n    args: [\"300\"]\n");
        alpha.createIdentity(JAVA);
        beta.createIdentity(JAVA);
        alpha.configure(List.of(beta));
        beta.configure(List.of(alpha));
        beta.start(JAVA);
        alpha.start(JAVA, "--shell");
        NodeProcess shell = alpha.process();
        Await.until("alpha sees beta up", ANSWER, () -> status(alpha).contains("\"state\":\"UP\""));
        for (int i = 0; i < 3; i++) {
            assertEquals(200, alpha.post("/outbox?target=beta&topic=meshwork.console.probe&key=shell-" + i, "m" + i).statusCode());
        }
        Await.until("alpha's outbox has the 3 acknowledged", ANSWER,
                () -> status(alpha).replace(" ", "").contains("\"done\":3"));
        Await.until("alpha's health view has alpha seeing beta directly", Duration.ofSeconds(30),
                () -> status(alpha).contains("\"observer\":\"alpha\",\"subject\":\"beta\",\"reachability\":\"direct\""));

        String help = run(shell, "help");
        for (String command : List.of("mesh:peers", "mesh:channels", "mesh:send", "outbox:stats", "outbox:dead",
                "outbox:retry", "outbox:abort", "health:view", "health:timeline", "mesh:health", "mesh:timeline",
                "gateway:list", "gateway:status", "gateway:restart", "gateway:reload", "felix:lb")) {
            assertTrue(help.lines().anyMatch(command::equals), "help lists " + command + ":\n" + help);
        }

        String bundles = run(shell, "lb -s");
        List<String> meshwork = bundles.lines().filter(l -> l.contains("|dev.meshwork.")).toList();
        assertTrue(meshwork.size() >= 7, "lb lists the Meshwork bundles:\n" + bundles);
        assertTrue(meshwork.stream().allMatch(l -> l.contains("|Active ")), "all of them active:\n" + bundles);

        String peers = run(shell, "mesh:peers");
        assertTrue(line(peers, "beta").contains(" UP "), "mesh:peers shows beta up:\n" + peers);

        String channels = run(shell, "mesh:channels");
        assertTrue(channels.lines().anyMatch(l -> l.startsWith("beta ") && l.contains(" OPEN ") && l.contains(" * ")),
                "mesh:channels shows beta's active open channel:\n" + channels);

        String sent = run(shell, "mesh:send beta meshwork.console.probe hello-from-the-shell");
        assertTrue(sent.startsWith("delivered "), "mesh:send delivers: " + sent);

        String stats = run(shell, "outbox:stats");
        assertTrue(Pattern.compile("(?m)^done\\s+3$").matcher(stats).find(), "outbox:stats counts the 3 done:\n" + stats);
        assertTrue(Pattern.compile("(?m)^pending\\s+0$").matcher(stats).find(), "nothing pending:\n" + stats);
        assertTrue(run(shell, "outbox:dead").lines().noneMatch(l -> l.contains("shell-")), "no dead letter");

        String view = run(shell, "health:view");
        assertTrue(line(view, "beta").contains("DIRECT"), "health:view: beta reachable directly:\n" + view);
        assertTrue(view.lines().anyMatch(l -> l.startsWith("alpha ")), "and alpha itself:\n" + view);
        String alias = run(shell, "mesh:health");
        assertEquals(view.lines().findFirst(), alias.lines().findFirst(), "mesh:health is the same table:\n" + alias);
        assertTrue(line(alias, "beta").contains("DIRECT"), alias);

        String timeline = run(shell, "health:timeline alpha");
        assertFalse(timeline.isBlank() || timeline.startsWith("no events"), "alpha's timeline has events:\n" + timeline);
        assertEquals("not a node id: not/a/node", run(shell, "health:timeline not/a/node"));

        String gateways = run(shell, "gateway:list");
        String sleeper = line(gateways, "sleeper");
        assertTrue(sleeper.contains(" RUNNING "), "gateway:list shows the running gateway:\n" + gateways);
        long pid = Long.parseLong(sleeper.trim().split("\\s+")[2]);
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "its pid " + pid + " is alive");
        assertTrue(run(shell, "gateway:status nosuch").startsWith("no gateway named 'nosuch'"));

        List<String> everything = shell.stdout();
        assertTrue(everything.stream().noneMatch(l -> l.contains("CommandNotFoundException")),
                "every command was found: " + everything);

        shell.writeLine("exit 0");
        assertEquals(0, shell.awaitExit(ANSWER), "exit 0 stops the node with exit code 0");
        Await.until("the gateway stopped with the node", ANSWER,
                () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    }

    @Test
    void endOfInputOnTheShellStopsTheNodeCleanly() throws Exception {
        MeshNode solo = node("solo", 1);
        solo.configure(List.of());
        solo.start(JAVA, "--shell");
        NodeProcess shell = solo.process();
        assertTrue(run(shell, "mesh:peers").startsWith("PEER "), "the shell answers");
        shell.closeStdin();
        assertEquals(0, shell.awaitExit(ANSWER), "end of input stops the node with exit code 0");
        assertTrue(String.join("\n", shell.stdout()).contains("gosh: stopping shell and framework"), "and says so");
    }

    @Test
    void sigtermStopsANodeRunningTheShell() throws Exception {
        MeshNode solo = node("solo", 1);
        solo.configure(List.of());
        solo.start(JAVA, "--shell");
        NodeProcess shell = solo.process();
        assertTrue(run(shell, "outbox:stats").contains("pending"), "the shell answers");
        assertEquals(0, shell.terminate(ANSWER), "SIGTERM stops the node with exit code 0 while the shell waits for input");
    }

    private MeshNode node(String id, int channels) throws Exception {
        MeshNode node = new MeshNode(id, root, channels);
        nodes.add(node);
        return node;
    }

    /**
     * Runs one shell command and returns its output: the lines between the previous end marker
     * and this command's own (an {@code echo} written right after it), without Gogo's prompts.
     */
    private String run(NodeProcess shell, String command) throws Exception {
        int from = marker;
        int to = ++marker;
        shell.writeLine(command);
        shell.writeLine("echo END-" + to);
        Await.until("the shell answers " + command, ANSWER,
                () -> shell.stdout().stream().anyMatch(l -> l.endsWith("END-" + to)));
        List<String> lines = shell.stdout();
        int start = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (from == 0 ? lines.get(i).contains(" listening on ") : lines.get(i).endsWith("END-" + from)) {
                start = i + 1;
            }
        }
        StringBuilder output = new StringBuilder();
        for (int i = start; i < lines.size() && !lines.get(i).endsWith("END-" + to); i++) {
            output.append(PROMPT.matcher(lines.get(i)).replaceFirst("")).append('\n');
        }
        return output.toString().strip();
    }

    /** The line of a command's table that starts with {@code key}. */
    private static String line(String table, String key) {
        return table.lines().filter(l -> l.startsWith(key + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + key + " in:\n" + table));
    }

    private static String status(MeshNode node) {
        try {
            return node.status();
        } catch (Exception e) {
            return "";
        }
    }
}
