import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Lists every test that Surefire or Failsafe re-ran into green ({@code rerunFailingTestsCount}),
 * with its first failure's message, and fails when more flaked than the stated threshold.
 *
 * <p>Why a report: a re-run that passes keeps the build green, so without it a flaky test hides.
 * Surefire writes such a test as a {@code <testcase>} with {@code <flakyFailure>} or
 * {@code <flakyError>} children in its XML report; that is all this reads.
 *
 * <p>Run with the JDK's source launcher, so CI needs nothing beyond the JDK:
 * {@code java scripts/FlakeReport.java ROOT MAX_FLAKES}. Exit code 0 when at most MAX_FLAKES
 * tests flaked, 1 otherwise.
 */
public final class FlakeReport {

    record Flake(String report, String test, String firstFailure) {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        int max = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        List<Flake> flakes = new ArrayList<>();
        for (Path report : reports(root)) {
            flakes.addAll(flakesIn(report));
        }
        if (flakes.isEmpty()) {
            System.out.println("flake report: no test needed a re-run");
            return;
        }
        System.out.printf("flake report: %d test(s) failed first and passed on the re-run (allowed: %d)%n",
                flakes.size(), max);
        for (Flake f : flakes) {
            System.out.printf("  FLAKE %s%n        first failure: %s%n        report: %s%n",
                    f.test(), f.firstFailure(), f.report());
        }
        if (flakes.size() > max) {
            System.out.printf("flake report: FAILING the run: %d flakes exceed the threshold of %d%n", flakes.size(), max);
            System.exit(1);
        }
    }

    private static List<Path> reports(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> {
                String dir = p.getParent() == null ? "" : p.getParent().getFileName().toString();
                String name = p.getFileName().toString();
                return (dir.equals("surefire-reports") || dir.equals("failsafe-reports"))
                        && name.startsWith("TEST-") && name.endsWith(".xml");
            }).sorted().toList();
        }
    }

    private static List<Flake> flakesIn(Path report) throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        var doc = factory.newDocumentBuilder().parse(report.toFile());
        NodeList cases = doc.getElementsByTagName("testcase");
        List<Flake> out = new ArrayList<>();
        for (int i = 0; i < cases.getLength(); i++) {
            Element testcase = (Element) cases.item(i);
            Element first = firstChild(testcase, "flakyFailure", "flakyError");
            if (first != null) {
                String message = first.getAttribute("message");
                if (message.isBlank()) {
                    message = first.getAttribute("type");
                }
                message = message.replaceAll("\\s+", " ").strip();
                if (message.length() > 300) {
                    message = message.substring(0, 300) + "…";
                }
                out.add(new Flake(report.toString(),
                        testcase.getAttribute("classname") + "." + testcase.getAttribute("name"), message));
            }
        }
        return out;
    }

    private static Element firstChild(Element parent, String... names) {
        NodeList children = parent.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element e && List.of(names).contains(e.getTagName())) {
                return e;
            }
        }
        return null;
    }
}
