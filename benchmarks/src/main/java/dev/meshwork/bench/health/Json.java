package dev.meshwork.bench.health;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** Just enough JSON for the Automerge driver's input and its one-line output. */
final class Json {

    private Json() {
    }

    static String write(Object o) {
        StringBuilder sb = new StringBuilder();
        write(o, sb);
        return sb.toString();
    }

    private static void write(Object o, StringBuilder sb) {
        if (o == null) {
            sb.append("null");
        } else if (o instanceof Number || o instanceof Boolean) {
            sb.append(o);
        } else if (o instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(String.valueOf(e.getKey()), sb);
                sb.append(':');
                write(e.getValue(), sb);
            }
            sb.append('}');
        } else if (o instanceof Collection<?> c) {
            sb.append('[');
            boolean first = true;
            for (Object x : c) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(x, sb);
            }
            sb.append(']');
        } else {
            sb.append('"');
            for (char ch : o.toString().toCharArray()) {
                if (ch == '"' || ch == '\\') {
                    sb.append('\\').append(ch);
                } else if (ch < 0x20) {
                    sb.append(String.format("\\u%04x", (int) ch));
                } else {
                    sb.append(ch);
                }
            }
            sb.append('"');
        }
    }

    /** Parses a flat JSON object of numbers, booleans and plain strings. */
    static Map<String, String> flatObject(String json) {
        Map<String, String> r = new LinkedHashMap<>();
        String body = json.trim();
        body = body.substring(1, body.length() - 1);
        for (String part : body.split(",")) {
            int colon = part.indexOf(':');
            r.put(part.substring(0, colon).trim().replace("\"", ""), part.substring(colon + 1).trim().replace("\"", ""));
        }
        return r;
    }
}
