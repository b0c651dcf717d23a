package dev.drainguard.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client's JSON codec against the agent's Jackson mapper, over many varied views: {@code status
 * --json} must print what it printed with Jackson, and read every reply Jackson writes.
 */
class ControlJsonTest {

  /**
   * Texts that stress escaping: quotes, backslashes, every kind of control character, non-ASCII.
   */
  static final List<String> TEXTS =
      List.of(
          "",
          "IN_SERVICE",
          "with \"quotes\" and \\backslashes\\ and /slashes/",
          "tab\there, newline\nthere, cr\r, bs\b, ff\f",
          "\u0000\u0001\u001f\u007f\u0080\u009f",
          "non-ASCII: é ß 日本語 \u2028\u2029 \ufeff",
          "emoji 😀 (a surrogate pair)",
          "<script>&amp;</script> 'single'",
          "1.5",
          "null");

  static final List<Double> DOUBLES =
      List.of(
          0.1,
          1e10,
          1e-7,
          -0.0,
          0.0,
          123456.789,
          Double.MAX_VALUE,
          Double.MIN_VALUE,
          2.0E-3,
          1.0E21,
          9007199254740993.0,
          Double.NaN,
          Double.POSITIVE_INFINITY,
          Double.NEGATIVE_INFINITY);

  static final List<Long> LONGS =
      List.of(0L, 1L, -1L, 4096L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 53, 3_600L);

  @Test
  void manyVariedViews_writeExactlyWhatJacksonWrites() throws Exception {
    Random random = new Random(15);
    for (int i = 0; i < 2000; i++) {
      StatusView view = (StatusView) randomRecord(StatusView.class, random, 0);
      String jackson = JacksonOracle.JSON.writeValueAsString(view);
      assertThat(ControlJson.write(view)).as("view %d", i).isEqualTo(jackson);
      assertThat(view.toJson()).isEqualTo(jackson);
    }
  }

  @Test
  void manyVariedReplies_readAsJacksonReadsThem() throws Exception {
    Random random = new Random(1515);
    for (int i = 0; i < 2000; i++) {
      ControlProtocol.Reply reply =
          (ControlProtocol.Reply) randomRecord(ControlProtocol.Reply.class, random, 0);
      String line = JacksonOracle.JSON.writeValueAsString(reply);
      ControlProtocol.Reply jackson =
          JacksonOracle.JSON.readValue(line, ControlProtocol.Reply.class);
      ControlProtocol.Reply mine = ControlJson.read(line, ControlProtocol.Reply.class);
      assertThat(JacksonOracle.JSON.writeValueAsString(mine))
          .isEqualTo(JacksonOracle.JSON.writeValueAsString(jackson));
      assertThat(mine).as(line).isEqualTo(jackson);
    }
  }

  @Test
  void requests_writeExactlyWhatJacksonWrites() throws Exception {
    for (ControlProtocol.Op op : ControlProtocol.Op.values()) {
      for (String reason : TEXTS) {
        for (boolean force : new boolean[] {false, true}) {
          ControlProtocol.Request r = ControlProtocol.Request.of(op, reason, force);
          assertThat(ControlJson.write(r)).isEqualTo(JacksonOracle.JSON.writeValueAsString(r));
        }
      }
    }
    ControlProtocol.Request none = new ControlProtocol.Request(null, null, null, null);
    assertThat(ControlJson.write(none)).isEqualTo("{}");
  }

  @Test
  void unknownFieldsAndWhiteSpace_areIgnoredAsJacksonIgnoresThem() throws Exception {
    String line =
        " { \"future\" : {\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\"}, \"v\":1, \"ok\":true,"
            + " \"message\":\"held\\ud83d\\ude00\", \"extra\":[true,false,null,-1.5e3],"
            + " \"status\":{\"phase\":\"HOLDING\",\"pid\":42,\"queues\":{\"roots\":[],\"more\":1}}}\n";
    ControlProtocol.Reply mine = ControlJson.read(line, ControlProtocol.Reply.class);
    assertThat(mine).isEqualTo(JacksonOracle.JSON.readValue(line, ControlProtocol.Reply.class));
    assertThat(mine.message()).isEqualTo("held😀");
    assertThat(mine.status().pid()).isEqualTo(42);
    assertThat(mine.status().queues().roots()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "null",
        "{",
        "{\"v\":1,}",
        "{\"v\":1} x",
        "{\"ok\":\"maybe\"}",
        "{\"v\":01x}",
        "{\"error\":\"a\u0001b\"}",
        "{\"error\":\"\\x\"}",
        "[1]"
      })
  void malformedReplies_areRefusedWithAnIoException(String line) {
    assertThatThrownBy(() -> ControlJson.read(line, ControlProtocol.Reply.class))
        .isInstanceOf(IOException.class);
  }

  /** A record of {@code type} with every component drawn at random, nulls and empties included. */
  static Object randomRecord(Class<?> type, Random r, int depth) throws Exception {
    RecordComponent[] cs = type.getRecordComponents();
    Class<?>[] types = new Class<?>[cs.length];
    Object[] args = new Object[cs.length];
    for (int i = 0; i < cs.length; i++) {
      types[i] = cs[i].getType();
      args[i] = random(cs[i].getGenericType(), r, depth);
    }
    return type.getDeclaredConstructor(types).newInstance(args);
  }

  static Object random(Type t, Random r, int depth) throws Exception {
    Class<?> c = t instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) t;
    boolean nullable = !c.isPrimitive();
    if (nullable && r.nextInt(4) == 0) {
      return null;
    }
    if (c == String.class) {
      return r.nextInt(3) == 0 ? TEXTS.get(r.nextInt(TEXTS.size())) : randomText(r);
    }
    if (c == long.class || c == Long.class) {
      return r.nextBoolean() ? LONGS.get(r.nextInt(LONGS.size())) : r.nextLong();
    }
    if (c == int.class || c == Integer.class) {
      return r.nextBoolean() ? r.nextInt(100) : r.nextInt();
    }
    if (c == boolean.class || c == Boolean.class) {
      return r.nextBoolean();
    }
    if (c == double.class || c == Double.class) {
      return r.nextBoolean()
          ? DOUBLES.get(r.nextInt(DOUBLES.size()))
          : r.nextDouble() * Math.pow(10, r.nextInt(40) - 20);
    }
    if (c == List.class) {
      Type element = ((ParameterizedType) t).getActualTypeArguments()[0];
      int n = depth > 2 ? 0 : r.nextInt(4);
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        out.add(random(element, r, depth + 1));
      }
      return out;
    }
    if (c.isRecord()) {
      return randomRecord(c, r, depth + 1);
    }
    throw new IllegalArgumentException("no random " + t);
  }

  static String randomText(Random r) {
    StringBuilder b = new StringBuilder();
    int n = r.nextInt(12);
    for (int i = 0; i < n; i++) {
      int kind = r.nextInt(5);
      b.append(
          switch (kind) {
            case 0 -> (char) r.nextInt(0x20);
            case 1 -> (char) (0x20 + r.nextInt(0x60));
            case 2 -> (char) (0x80 + r.nextInt(0x780));
            case 3 -> "😀";
            default -> (char) (0x3000 + r.nextInt(0x1000));
          });
    }
    return b.toString();
  }
}
