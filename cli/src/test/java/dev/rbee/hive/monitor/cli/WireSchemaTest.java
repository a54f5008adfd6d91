package dev.rbee.hive.monitor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.json.Wire;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JSON Schema of the wire format against what a live server sends (the
 * worker list and a heartbeat event), and its rule that every optional field
 * is present or explained under "absent" by its own name.
 */
class WireSchemaTest {
    /** Draft 2020-12, knowing our annotation x-rbee-explained (the fields an object must have or explain). */
    static final JsonSchemaFactory FACTORY = JsonSchemaFactory.builder(JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012))
            .metaSchema(com.networknt.schema.JsonMetaSchema.builder(com.networknt.schema.JsonMetaSchema.getV202012())
                    .keyword(new com.networknt.schema.NonValidationKeyword("x-rbee-explained")).build())
            .build();
    static final String CLASSPATH = "classpath:" + Wire.SCHEMA.substring(1);

    final String group = TestEnv.uniqueGroup("schema");
    final ProcessMonitor monitor = TestEnv.monitor();
    final HttpClient client = HttpClient.newHttpClient();
    Server server;
    Worker worker;

    @BeforeEach
    void start() throws Exception {
        worker = monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "sleep 600", "w", "--model", "llama-test")
                .withMonitoring(group, "8080").build());
        server = Server.start(monitor, new Server.Options().bind(InetAddress.getLoopbackAddress()).port(0)
                .interval(Duration.ofMillis(200)).hiveId("schema-hive"));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        client.close();
        if (worker.isAlive()) worker.stop(Duration.ofSeconds(1));
        TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
    }

    static JsonSchema schema(String pointer) {
        return FACTORY.getSchema(SchemaLocation.of(CLASSPATH + pointer.substring(pointer.indexOf('#'))));
    }

    static JsonNode schemaDef(String name) throws Exception {
        try (InputStream in = Wire.class.getResourceAsStream(Wire.SCHEMA)) {
            return ServerTest.JSON.readTree(in).get("$defs").get(name);
        }
    }

    @Test
    void theWorkerListMatchesItsSchema() throws Exception {
        JsonNode list = workersWithOurs();
        assertValid(Wire.WORKERS_SCHEMA, list);
        JsonNode w = ours(list);
        assertFalse(w.has("service"), "the worker list says group only: " + w);
        assertEquals("llama-test", w.get("model").asText());
        assertEverythingExplained(list);
    }

    @Test
    void aHeartbeatEventMatchesItsSchema() throws Exception {
        workersWithOurs(); // our worker has been sampled twice (a rate exists)
        HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + Server.STREAM)).build(), HttpResponse.BodyHandlers.ofInputStream());
        JsonNode event = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line; event == null && (line = in.readLine()) != null; )
                if (line.startsWith("data: ")) event = ServerTest.JSON.readTree(line.substring(6));
        }
        assertValid(Wire.HIVE_TELEMETRY_SCHEMA, event);
        JsonNode w = ours(event);
        assertEquals(group, w.get("service").asText(), "the queen's name for the group, in the heartbeat only");
        assertEverythingExplained(event);
    }

    /** The checks can fail: an unknown field, a null, an unexplained gap and a reason for a present field are caught. */
    @Test
    void theChecksCatchWhatTheyAreFor() throws Exception {
        JsonNode list = workersWithOurs();
        ObjectNode w = (ObjectNode) ours(list);
        w.put("surprise", 1);
        assertFalse(schema(Wire.WORKERS_SCHEMA).validate(list).isEmpty(), "an unknown field fails the schema");
        w.remove("surprise");
        w.putNull("cpu_pct");
        assertFalse(schema(Wire.WORKERS_SCHEMA).validate(list).isEmpty(), "null fails the schema");
        w.remove("cpu_pct");
        assertThrows(() -> assertEverythingExplained(list), "cpu_pct neither present nor explained");
        w.put("cpu_pct", 1.0);
        ((ObjectNode) w.get("absent")).put("cpu_pct", "made up");
        assertThrows(() -> assertEverythingExplained(list), "cpu_pct both present and explained");
    }

    private static void assertThrows(org.junit.jupiter.api.function.Executable e, String what) {
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, e, what);
    }

    JsonNode workersWithOurs() throws Exception {
        for (int i = 0; i < 100; i++) {
            JsonNode list = ServerTest.JSON.readTree(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.port() + Server.WORKERS)).build(), HttpResponse.BodyHandlers.ofString()).body());
            JsonNode w = ours(list);
            if (w != null && w.has("cpu_pct")) return list;
            Thread.sleep(100);
        }
        throw new AssertionError("our worker never showed with a CPU rate in " + Server.WORKERS);
    }

    JsonNode ours(JsonNode doc) {
        for (JsonNode w : doc.get("workers")) if (w.get("group").asText().equals(group)) return w;
        return null;
    }

    static void assertValid(String pointer, JsonNode doc) {
        Set<ValidationMessage> errors = schema(pointer).validate(doc);
        assertTrue(errors.isEmpty(), errors + " in " + doc);
    }

    /** Every object the schema marks with x-rbee-explained: each such field present, or in its "absent" map; not both. */
    static void assertEverythingExplained(JsonNode doc) throws Exception {
        JsonNode fields = schemaDef("workerFields");
        for (JsonNode w : doc.get("workers")) {
            explained(w, fields.get("x-rbee-explained"), "worker " + w.get("worker_id"));
            if (w.has("pressure")) explained(w.get("pressure"), fields.get("properties").get("pressure").get("x-rbee-explained"),
                    "pressure of " + w.get("worker_id"));
        }
        if (doc.has("node")) {
            explained(doc.get("node"), schemaDef("node").get("x-rbee-explained"), "node");
            if (doc.get("node").has("gpus"))
                for (JsonNode g : doc.get("node").get("gpus")) explained(g, schemaDef("gpu").get("x-rbee-explained"), "gpu");
        }
    }

    private static void explained(JsonNode obj, JsonNode names, String what) {
        JsonNode absent = obj.get("absent");
        List<String> known = new ArrayList<>();
        for (JsonNode n : names) {
            String k = n.asText();
            known.add(k);
            boolean present = obj.has(k), why = absent != null && absent.has(k);
            assertTrue(present != why, what + ": " + k + (present ? " is present and explained" : " is missing without a reason")
                    + " in " + obj);
        }
        if (absent != null) absent.fieldNames().forEachRemaining(k ->
                assertTrue(known.contains(k), what + ": absent." + k + " explains no field of the object: " + obj));
    }
}
