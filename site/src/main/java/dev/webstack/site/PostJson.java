package dev.webstack.site;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The JSON shapes of the API. A post is {@code {"id", "title", "body", "author", "createdAt"}}
 * ({@code createdAt} in ISO-8601 UTC, e.g. {@code 2025-01-31T12:00:00.123Z}). A new post is a
 * JSON object with exactly the string fields {@code title}, {@code body} and {@code author};
 * anything else (not JSON, trailing data, duplicate or unknown keys, a wrong type) is refused with
 * an {@link HttpError} 400 whose message says what was wrong.
 */
public final class PostJson {
    private static final Set<String> FIELDS = Set.of("title", "body", "author");
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private PostJson() {}

    /** Parses a new post; not yet validated (see {@link PostInput#validate()}). */
    public static PostInput parse(byte[] json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new HttpError(400, "invalid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new HttpError(400, "invalid JSON: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw new HttpError(400, "empty body (expected: a JSON object with title, body and author)");
        }
        if (!root.isObject()) {
            throw new HttpError(400, "expected a JSON object with title, body and author, got " + kind(root));
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new HttpError(400, "unknown field '" + name + "' (expected: title, body, author)");
            }
        }
        return PostInput.of(string(root, "title"), string(root, "author"), string(root, "body"));
    }

    private static String string(JsonNode root, String field) {
        JsonNode value = root.get(field);
        if (value == null || value.isNull()) {
            throw new HttpError(400, field + ": missing (expected: a string)");
        }
        if (!value.isTextual()) {
            throw new HttpError(400, field + ": expected a string, got " + kind(value));
        }
        return value.textValue();
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case STRING -> "a string";
            default -> "null";
        };
    }

    public static ObjectNode toJson(Post post) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("id", post.id());
        node.put("title", post.title());
        node.put("body", post.body());
        node.put("author", post.author());
        node.put("createdAt", post.createdAt().toString());
        return node;
    }

    public static ObjectNode list(List<Post> posts) {
        ObjectNode node = MAPPER.createObjectNode();
        ArrayNode array = node.putArray("posts");
        posts.forEach(p -> array.add(toJson(p)));
        return node;
    }

    public static ObjectNode error(String message) {
        return MAPPER.createObjectNode().put("error", message);
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + node.getNodeType() + ": " + e.getMessage(), e);
        }
    }
}
