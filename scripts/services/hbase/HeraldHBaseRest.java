/*
 * A small HTTP gateway for the local HBase of scripts/services.sh: the subset of the HBase REST
 * server's API ("Stargate", org.apache.hadoop.hbase.rest.RESTServer) that Herald uses, with the
 * same paths, JSON bodies and status codes, served by the JDK's HTTP server over hbase-client.
 *
 * Why it exists: hbase-rest and hbase-thrift are not served by the Maven registry these machines
 * reach (only hbase-server and its dependencies are), so the real gateway cannot be fetched.
 * Herald's client speaks the real REST protocol; in a real deployment point it at a real
 * RESTServer. Only JSON (Accept/Content-Type application/json) is supported, no XML/protobuf.
 *
 * Endpoints (row keys, column names and values are base64 in JSON bodies, as in HBase REST):
 *   GET    /version/cluster             HBase version as a JSON string (asks the master)
 *   GET    /status/cluster              {"regions":N,"requests":N,"DeadNodes":[],"LiveNodes":[..]}
 *   GET    /TABLE/schema                {"name":..,"ColumnSchema":[{"name":"cf","TTL":"60",..}]}
 *   PUT    /TABLE/schema                create, or replace the families of an existing table (201)
 *   POST   /TABLE/schema                create, or add/modify families (201)
 *   DELETE /TABLE/schema                disable + drop (200; 404 if missing)
 *   PUT    /TABLE/ROW  (POST too)       CellSet body {"Row":[{"key":..,"Cell":[{"column":..,
 *                                      "$":..}]}]}: all rows in one batch (ROW in the path is only
 *                                      a fallback for a Row without "key")
 *   GET    /TABLE/ROW[/FAMILY[:QUALIFIER]]   CellSet of one row (404 if empty)
 *   DELETE /TABLE/ROW[/FAMILY[:QUALIFIER]]   delete a row or a column (200)
 *   POST   /TABLE/scanner  (PUT too)    Scanner body {"startRow":..,"endRow":..,"batch":N,
 *                                      "column":[..],"caching":N,"maxVersions":N}:
 *                                      201 with Location: /TABLE/scanner/ID
 *   GET    /TABLE/scanner/ID?n=ROWS     next CellSet: at most `batch` cells and n rows; 204 at end
 *   DELETE /TABLE/scanner/ID            close (200)
 * ROW in a path is percent-decoded to raw bytes (so binary keys work; real REST decodes to UTF-8).
 * Errors: 400 bad request, 404 table/row/scanner not found, 503 HBase unreachable or timed out
 * (as RESTServer's ResourceBase does), with a plain-text body.
 *
 * Run: java -cp CONF:LIB/*:CLASSES HeraldHBaseRest PORT [BIND_ADDRESS]; hbase-site.xml in CONF.
 */
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.Cell;
import org.apache.hadoop.hbase.CellUtil;
import org.apache.hadoop.hbase.ClusterMetrics;
import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.ServerName;
import org.apache.hadoop.hbase.TableExistsException;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.TableNotFoundException;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptor;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptorBuilder;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;
import org.apache.hadoop.hbase.client.Delete;
import org.apache.hadoop.hbase.client.Get;
import org.apache.hadoop.hbase.client.Put;
import org.apache.hadoop.hbase.client.Result;
import org.apache.hadoop.hbase.client.ResultScanner;
import org.apache.hadoop.hbase.client.Scan;
import org.apache.hadoop.hbase.client.Table;
import org.apache.hadoop.hbase.client.TableDescriptor;
import org.apache.hadoop.hbase.client.TableDescriptorBuilder;
import org.apache.hadoop.hbase.util.Bytes;
import org.apache.hbase.thirdparty.com.google.gson.JsonArray;
import org.apache.hbase.thirdparty.com.google.gson.JsonElement;
import org.apache.hbase.thirdparty.com.google.gson.JsonObject;
import org.apache.hbase.thirdparty.com.google.gson.JsonParser;
import org.apache.hbase.thirdparty.com.google.gson.JsonPrimitive;

public final class HeraldHBaseRest {
  private static final Base64.Encoder B64 = Base64.getEncoder();
  private static final Base64.Decoder B64D = Base64.getDecoder();
  private static final long SCANNER_IDLE_MS = 120_000;

  private static Connection conn;
  private static final Map<String, OpenScanner> scanners = new ConcurrentHashMap<>();

  /** An open scanner: the HBase scanner, its batch (cells per GET) and a pushed-back row. */
  private static final class OpenScanner {
    final ResultScanner scanner;
    final int batch;
    Result pending;
    int pendingOffset;
    volatile long lastUsed = System.currentTimeMillis();

    OpenScanner(ResultScanner scanner, int batch) {
      this.scanner = scanner;
      this.batch = batch;
    }
  }

  /** An HTTP error with its status. */
  private static final class HttpError extends Exception {
    final int status;

    HttpError(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String bind = args.length > 1 ? args[1] : "127.0.0.1";
    Configuration conf = HBaseConfiguration.create();
    // Fail fast while HBase is down: a request gets a 503 within seconds rather than hanging on
    // the client's default 16 minutes of retries. Overridable in hbase-site.xml.
    setDefault(conf, "hbase.client.retries.number", "2");
    setDefault(conf, "hbase.client.pause", "100");
    setDefault(conf, "hbase.rpc.timeout", "4000");
    setDefault(conf, "hbase.client.operation.timeout", "5000");
    setDefault(conf, "hbase.client.meta.operation.timeout", "5000");
    setDefault(conf, "zookeeper.recovery.retry", "0");
    setDefault(conf, "zookeeper.session.timeout", "10000");
    conn = ConnectionFactory.createConnection(conf);

    HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 64);
    server.createContext("/", HeraldHBaseRest::handle);
    server.setExecutor(Executors.newFixedThreadPool(16));
    server.start();
    Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "scanner-reaper");
      t.setDaemon(true);
      return t;
    }).scheduleWithFixedDelay(HeraldHBaseRest::reapScanners, 30, 30, TimeUnit.SECONDS);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop(0);
      try {
        conn.close();
      } catch (IOException ignored) {
        // exiting anyway
      }
    }));
    System.out.println("HeraldHBaseRest listening on " + bind + ":" + port);
  }

  private static void setDefault(Configuration conf, String key, String value) {
    if (!isSetInSite(conf, key)) {
      conf.set(key, value);
    }
  }

  private static boolean isSetInSite(Configuration conf, String key) {
    String[] sources = conf.getPropertySources(key);
    if (sources == null) {
      return false;
    }
    for (String s : sources) {
      if (s.endsWith("hbase-site.xml")) {
        return true;
      }
    }
    return false;
  }

  private static void reapScanners() {
    long now = System.currentTimeMillis();
    for (Iterator<Map.Entry<String, OpenScanner>> it = scanners.entrySet().iterator();
      it.hasNext();) {
      Map.Entry<String, OpenScanner> e = it.next();
      if (now - e.getValue().lastUsed > SCANNER_IDLE_MS) {
        it.remove();
        e.getValue().scanner.close();
      }
    }
  }

  // ------------------------------------------------------------------------------------------

  private static void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
    } catch (HttpError e) {
      send(ex, e.status, "text/plain", (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (TableNotFoundException e) {
      send(ex, 404, "text/plain", ("Not found\n" + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (TableExistsException e) {
      send(ex, 409, "text/plain", ("Conflict\n" + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | IllegalStateException
      | org.apache.hbase.thirdparty.com.google.gson.JsonParseException e) {
      send(ex, 400, "text/plain", ("Bad request\n" + e + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (Exception e) {
      // What RESTServer answers for an IOException from HBase: 503 "Unavailable".
      send(ex, 503, "text/plain", ("Unavailable\n" + e + "\n").getBytes(StandardCharsets.UTF_8));
    } finally {
      ex.close();
    }
  }

  private static void route(HttpExchange ex) throws Exception {
    String method = ex.getRequestMethod();
    String rawPath = ex.getRequestURI().getRawPath();
    List<String> seg = new ArrayList<>();
    for (String s : rawPath.split("/")) {
      if (!s.isEmpty()) {
        seg.add(s);
      }
    }
    if (seg.isEmpty()) {
      throw new HttpError(404, "Not found");
    }
    if (seg.get(0).equals("version")) {
      if (seg.size() == 2 && seg.get(1).equals("cluster") && method.equals("GET")) {
        String v;
        try (Admin admin = conn.getAdmin()) {
          v = admin.getClusterMetrics(java.util.EnumSet.of(ClusterMetrics.Option.HBASE_VERSION))
            .getHBaseVersion();
        }
        if (wantsJson(ex)) {
          sendJson(ex, 200, new JsonPrimitive(v));
        } else {
          send(ex, 200, "text/plain", (v + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return;
      }
      JsonObject o = new JsonObject();
      o.addProperty("REST", "herald-shim");
      o.addProperty("JVM", System.getProperty("java.vm.vendor") + " "
        + System.getProperty("java.version") + "-" + System.getProperty("java.vm.version"));
      o.addProperty("OS", System.getProperty("os.name") + " " + System.getProperty("os.version")
        + " " + System.getProperty("os.arch"));
      sendJson(ex, 200, o);
      return;
    }
    if (seg.get(0).equals("status") && seg.size() == 2 && seg.get(1).equals("cluster")) {
      ClusterMetrics m;
      try (Admin admin = conn.getAdmin()) {
        m = admin.getClusterMetrics();
      }
      JsonObject o = new JsonObject();
      o.addProperty("regions", m.getRegionCount());
      o.addProperty("requests", m.getRequestCount());
      JsonArray live = new JsonArray();
      for (ServerName sn : m.getLiveServerMetrics().keySet()) {
        JsonObject n = new JsonObject();
        n.addProperty("name", sn.getAddress().toString());
        n.addProperty("startCode", sn.getStartCode());
        live.add(n);
      }
      o.add("LiveNodes", live);
      JsonArray dead = new JsonArray();
      for (ServerName sn : m.getDeadServerNames()) {
        dead.add(sn.toString());
      }
      o.add("DeadNodes", dead);
      sendJson(ex, 200, o);
      return;
    }
    TableName table = TableName.valueOf(decodeString(seg.get(0)));
    if (seg.size() == 2 && seg.get(1).equals("schema")) {
      schema(ex, method, table);
    } else if (seg.size() >= 2 && seg.get(1).equals("scanner")) {
      scanner(ex, method, table, seg.size() > 2 ? seg.get(2) : null);
    } else if (seg.size() >= 2) {
      row(ex, method, table, decodeBytes(seg.get(1)),
        seg.size() > 2 ? decodeBytes(seg.get(2)) : null);
    } else {
      throw new HttpError(404, "Not found");
    }
  }

  // ---- schema ------------------------------------------------------------------------------

  private static void schema(HttpExchange ex, String method, TableName table) throws Exception {
    try (Admin admin = conn.getAdmin()) {
      switch (method) {
        case "GET": {
          TableDescriptor td = admin.getDescriptor(table);
          JsonObject o = new JsonObject();
          o.addProperty("name", table.getNameAsString());
          JsonArray cols = new JsonArray();
          for (ColumnFamilyDescriptor cf : td.getColumnFamilies()) {
            JsonObject c = new JsonObject();
            c.addProperty("name", cf.getNameAsString());
            for (Map.Entry<org.apache.hadoop.hbase.util.Bytes, org.apache.hadoop.hbase.util.Bytes> e
              : cf.getValues().entrySet()) {
              c.addProperty(Bytes.toString(e.getKey().get()), Bytes.toString(e.getValue().get()));
            }
            c.addProperty("TTL", String.valueOf(cf.getTimeToLive()));
            c.addProperty("VERSIONS", String.valueOf(cf.getMaxVersions()));
            cols.add(c);
          }
          o.add("ColumnSchema", cols);
          o.addProperty("IS_META", String.valueOf(td.isMetaTable()));
          sendJson(ex, 200, o);
          return;
        }
        case "PUT":
        case "POST": {
          JsonObject body = JsonParser.parseString(readBody(ex)).getAsJsonObject();
          List<ColumnFamilyDescriptor> families = new ArrayList<>();
          JsonArray cols = body.has("ColumnSchema") ? body.getAsJsonArray("ColumnSchema")
            : new JsonArray();
          for (JsonElement el : cols) {
            JsonObject c = el.getAsJsonObject();
            ColumnFamilyDescriptorBuilder b =
              ColumnFamilyDescriptorBuilder.newBuilder(Bytes.toBytes(c.get("name").getAsString()));
            for (Map.Entry<String, JsonElement> e : c.entrySet()) {
              if (!e.getKey().equals("name")) {
                b.setValue(e.getKey(), e.getValue().getAsString());
              }
            }
            families.add(b.build());
          }
          if (families.isEmpty()) {
            throw new HttpError(400, "Bad request\nno ColumnSchema");
          }
          if (!admin.tableExists(table)) {
            TableDescriptorBuilder tb = TableDescriptorBuilder.newBuilder(table);
            families.forEach(tb::setColumnFamily);
            try {
              admin.createTable(tb.build());
            } catch (TableExistsException raced) {
              // created concurrently: fall through to an update
              update(admin, table, families, method.equals("PUT"));
            }
          } else {
            update(admin, table, families, method.equals("PUT"));
          }
          send(ex, 201, "text/plain", new byte[0]);
          return;
        }
        case "DELETE": {
          if (!admin.tableExists(table)) {
            throw new TableNotFoundException(table);
          }
          if (admin.isTableEnabled(table)) {
            admin.disableTable(table);
          }
          admin.deleteTable(table);
          send(ex, 200, "text/plain", new byte[0]);
          return;
        }
        default:
          throw new HttpError(405, "Method not allowed");
      }
    }
  }

  private static void update(Admin admin, TableName table, List<ColumnFamilyDescriptor> families,
    boolean replace) throws IOException {
    TableDescriptor current = admin.getDescriptor(table);
    TableDescriptorBuilder tb = TableDescriptorBuilder.newBuilder(current);
    if (replace) {
      for (ColumnFamilyDescriptor cf : current.getColumnFamilies()) {
        boolean keep = families.stream().anyMatch(f -> Bytes.equals(f.getName(), cf.getName()));
        if (!keep) {
          tb.removeColumnFamily(cf.getName());
        }
      }
    }
    for (ColumnFamilyDescriptor cf : families) {
      tb.modifyColumnFamily(cf);
      if (!current.hasColumnFamily(cf.getName())) {
        tb.setColumnFamily(cf);
      }
    }
    TableDescriptor wanted = tb.build();
    if (!wanted.equals(current)) {
      admin.modifyTable(wanted);
    }
  }

  // ---- rows --------------------------------------------------------------------------------

  private static void row(HttpExchange ex, String method, TableName table, byte[] row,
    byte[] column) throws Exception {
    try (Table t = conn.getTable(table)) {
      switch (method) {
        case "GET": {
          Get g = new Get(row);
          if (column != null) {
            addColumn(g, column);
          }
          Result r = t.get(g);
          if (r.isEmpty()) {
            throw new HttpError(404, "Not found");
          }
          JsonArray rows = new JsonArray();
          rows.add(rowJson(r, 0, Integer.MAX_VALUE));
          JsonObject o = new JsonObject();
          o.add("Row", rows);
          sendJson(ex, 200, o);
          return;
        }
        case "PUT":
        case "POST": {
          JsonObject body = JsonParser.parseString(readBody(ex)).getAsJsonObject();
          List<Put> puts = new ArrayList<>();
          for (JsonElement re : body.getAsJsonArray("Row")) {
            JsonObject ro = re.getAsJsonObject();
            byte[] key = ro.has("key") ? B64D.decode(ro.get("key").getAsString()) : row;
            Put p = new Put(key);
            for (JsonElement ce : ro.getAsJsonArray("Cell")) {
              JsonObject co = ce.getAsJsonObject();
              byte[] col = co.has("column") ? B64D.decode(co.get("column").getAsString()) : column;
              if (col == null) {
                throw new HttpError(400, "Bad request\ncell without column");
              }
              byte[][] fq = CellUtil.parseColumn(col);
              byte[] value = co.has("$") ? B64D.decode(co.get("$").getAsString()) : new byte[0];
              byte[] qualifier = fq.length > 1 ? fq[1] : new byte[0];
              if (co.has("timestamp")) {
                p.addColumn(fq[0], qualifier, co.get("timestamp").getAsLong(), value);
              } else {
                p.addColumn(fq[0], qualifier, value);
              }
            }
            puts.add(p);
          }
          t.put(puts);
          send(ex, 200, "text/plain", new byte[0]);
          return;
        }
        case "DELETE": {
          Delete d = new Delete(row);
          if (column != null) {
            byte[][] fq = CellUtil.parseColumn(column);
            if (fq.length > 1 && fq[1].length > 0) {
              d.addColumns(fq[0], fq[1]);
            } else {
              d.addFamily(fq[0]);
            }
          }
          t.delete(d);
          send(ex, 200, "text/plain", new byte[0]);
          return;
        }
        default:
          throw new HttpError(405, "Method not allowed");
      }
    }
  }

  private static void addColumn(Get g, byte[] column) {
    byte[][] fq = CellUtil.parseColumn(column);
    if (fq.length > 1 && fq[1].length > 0) {
      g.addColumn(fq[0], fq[1]);
    } else {
      g.addFamily(fq[0]);
    }
  }

  private static JsonObject rowJson(Result r, int from, int max) {
    JsonObject ro = new JsonObject();
    ro.addProperty("key", B64.encodeToString(r.getRow()));
    JsonArray cells = new JsonArray();
    Cell[] all = r.rawCells();
    for (int i = from; i < all.length && i - from < max; i++) {
      Cell c = all[i];
      JsonObject co = new JsonObject();
      co.addProperty("column", B64.encodeToString(
        Bytes.add(CellUtil.cloneFamily(c), new byte[] { ':' }, CellUtil.cloneQualifier(c))));
      co.addProperty("timestamp", c.getTimestamp());
      co.addProperty("$", B64.encodeToString(CellUtil.cloneValue(c)));
      cells.add(co);
    }
    ro.add("Cell", cells);
    return ro;
  }

  // ---- scanners ----------------------------------------------------------------------------

  private static void scanner(HttpExchange ex, String method, TableName table, String id)
    throws Exception {
    if (id == null) {
      if (!method.equals("POST") && !method.equals("PUT")) {
        throw new HttpError(405, "Method not allowed");
      }
      JsonObject body = JsonParser.parseString(readBody(ex)).getAsJsonObject();
      Scan scan = new Scan();
      if (body.has("startRow")) {
        scan.withStartRow(B64D.decode(body.get("startRow").getAsString()));
      }
      if (body.has("endRow")) {
        scan.withStopRow(B64D.decode(body.get("endRow").getAsString()));
      }
      if (body.has("column")) {
        for (JsonElement c : body.getAsJsonArray("column")) {
          byte[][] fq = CellUtil.parseColumn(B64D.decode(c.getAsString()));
          if (fq.length > 1 && fq[1].length > 0) {
            scan.addColumn(fq[0], fq[1]);
          } else {
            scan.addFamily(fq[0]);
          }
        }
      }
      if (body.has("maxVersions")) {
        scan.readVersions(body.get("maxVersions").getAsInt());
      }
      if (body.has("startTime") || body.has("endTime")) {
        scan.setTimeRange(body.has("startTime") ? body.get("startTime").getAsLong() : 0,
          body.has("endTime") ? body.get("endTime").getAsLong() : Long.MAX_VALUE);
      }
      int caching = body.has("caching") ? body.get("caching").getAsInt() : 100;
      if (caching > 0) {
        scan.setCaching(caching);
      }
      int batch = body.has("batch") ? body.get("batch").getAsInt() : Integer.MAX_VALUE;
      if (batch <= 0) {
        throw new HttpError(400, "Bad request\nbatch must be positive");
      }
      ResultScanner rs;
      try (Table t = conn.getTable(table)) {
        rs = t.getScanner(scan);
      }
      String sid = UUID.randomUUID().toString().replace("-", "");
      scanners.put(sid, new OpenScanner(rs, batch));
      String location = "http://" + ex.getRequestHeaders().getFirst("Host") + "/"
        + table.getNameAsString() + "/scanner/" + sid;
      ex.getResponseHeaders().set("Location", location);
      send(ex, 201, "text/plain", new byte[0]);
      return;
    }
    OpenScanner s = scanners.get(id);
    if (s == null) {
      throw new HttpError(404, "Not found\nno scanner " + id);
    }
    if (method.equals("DELETE")) {
      scanners.remove(id);
      s.scanner.close();
      send(ex, 200, "text/plain", new byte[0]);
      return;
    }
    if (!method.equals("GET")) {
      throw new HttpError(405, "Method not allowed");
    }
    int maxRows = 0;
    String q = ex.getRequestURI().getRawQuery();
    if (q != null) {
      for (String kv : q.split("&")) {
        if (kv.startsWith("n=")) {
          maxRows = Integer.parseInt(kv.substring(2));
        }
      }
    }
    synchronized (s) {
      s.lastUsed = System.currentTimeMillis();
      JsonArray rows = new JsonArray();
      int cellsLeft = s.batch;
      int rowsLeft = maxRows > 0 ? maxRows : Integer.MAX_VALUE;
      while (cellsLeft > 0 && rowsLeft > 0) {
        Result r = s.pending;
        int offset = s.pendingOffset;
        s.pending = null;
        s.pendingOffset = 0;
        if (r == null) {
          r = s.scanner.next();
          offset = 0;
        }
        if (r == null) {
          break;
        }
        int n = r.rawCells().length - offset;
        if (n > cellsLeft) {
          // the row does not fit: send a part of it now, the rest with the next GET
          s.pending = r;
          s.pendingOffset = offset + cellsLeft;
          n = cellsLeft;
        }
        rows.add(rowJson(r, offset, n));
        cellsLeft -= n;
        rowsLeft--;
      }
      if (rows.size() == 0) {
        send(ex, 204, "text/plain", null);
        return;
      }
      JsonObject o = new JsonObject();
      o.add("Row", rows);
      sendJson(ex, 200, o);
    }
  }

  // ---- HTTP helpers ------------------------------------------------------------------------

  private static boolean wantsJson(HttpExchange ex) {
    String accept = ex.getRequestHeaders().getFirst("Accept");
    return accept != null && accept.contains("json");
  }

  private static String readBody(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  private static void sendJson(HttpExchange ex, int status, JsonElement body) throws IOException {
    send(ex, status, "application/json", body.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
    throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    if (body == null || status == 204) {
      ex.sendResponseHeaders(status, -1);
      return;
    }
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream os = ex.getResponseBody()) {
        os.write(body);
      }
    }
  }

  private static String decodeString(String s) {
    return Bytes.toString(decodeBytes(s));
  }

  /** Percent-decodes a path segment to raw bytes ('+' stays '+'). */
  private static byte[] decodeBytes(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length()) {
        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        out.write(c);
      }
    }
    return out.toByteArray();
  }
}
