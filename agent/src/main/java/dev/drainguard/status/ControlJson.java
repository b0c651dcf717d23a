package dev.drainguard.status;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * The control protocol's JSON on the client side, without Jackson: writes a record as one object,
 * its components in declaration order, null ones left out; reads an object into a record through
 * its canonical constructor, unknown fields ignored, absent ones null (or 0, false). It knows the
 * types the protocol uses: String, long, int, boolean, double and their boxes, List of those or of
 * records, and records. What it writes is what the agent's Jackson writes (NON_NULL, non-finite
 * doubles as strings), so {@code status --json} prints the same line either way.
 */
public final class ControlJson {

  private ControlJson() {}

  /** {@code value} (a record, a String, a number, a boolean or a List of them) as JSON. */
  public static String write(Object value) {
    StringBuilder b = new StringBuilder(256);
    value(b, value);
    return b.toString();
  }

  /** The record of {@code type} that the JSON object {@code json} describes. */
  public static <T extends Record> T read(String json, Class<T> type) throws IOException {
    JsonReader r = new JsonReader(json);
    Object tree = r.value();
    r.end();
    if (tree == null) {
      throw new IOException("expected a JSON object, found null");
    }
    return type.cast(bind(tree, type, "$"));
  }

  private static void value(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String s) {
      string(b, s);
    } else if (v instanceof Double d) {
      number(b, d);
    } else if (v instanceof Float f) {
      number(b, f.doubleValue());
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else if (v instanceof List<?> list) {
      b.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          b.append(',');
        }
        value(b, list.get(i));
      }
      b.append(']');
    } else if (v instanceof Record rec) {
      record(b, rec);
    } else {
      throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
    }
  }

  private static void record(StringBuilder b, Record rec) {
    b.append('{');
    boolean first = true;
    for (RecordComponent c : rec.getClass().getRecordComponents()) {
      Object v;
      try {
        v = c.getAccessor().invoke(rec);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read " + c.getName() + " of " + rec.getClass(), e);
      }
      if (v == null) {
        continue;
      }
      if (!first) {
        b.append(',');
      }
      first = false;
      string(b, c.getName());
      b.append(':');
      value(b, v);
    }
    b.append('}');
  }

  /** As Jackson writes a double: Java's own text, NaN and the infinities as strings. */
  private static void number(StringBuilder b, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      b.append('"').append(d).append('"');
    } else {
      b.append(d);
    }
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  /** As Jackson escapes: quote, backslash, and control characters; everything else as it is. */
  static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (ch < 0x20) {
            b.append("\\u00").append(HEX[ch >> 4]).append(HEX[ch & 0xF]);
          } else {
            b.append(ch);
          }
        }
      }
    }
    b.append('"');
  }

  private static Object bind(Object tree, Type type, String where) throws IOException {
    Class<?> raw = raw(type);
    if (tree == null) {
      return raw.isPrimitive() ? defaultOf(raw) : null;
    }
    if (raw == String.class) {
      if (tree instanceof String || tree instanceof Boolean || tree instanceof JsonReader.Num) {
        return tree.toString();
      }
    } else if (raw == long.class || raw == Long.class) {
      return exact(number(tree, where), Long.MIN_VALUE, Long.MAX_VALUE, where);
    } else if (raw == int.class || raw == Integer.class) {
      return (int) exact(number(tree, where), Integer.MIN_VALUE, Integer.MAX_VALUE, where);
    } else if (raw == double.class || raw == Double.class) {
      return tree instanceof String s ? nonFinite(s, where) : number(tree, where).doubleValue();
    } else if (raw == boolean.class || raw == Boolean.class) {
      if (tree instanceof Boolean bool) {
        return bool;
      }
    } else if (raw == List.class) {
      if (tree instanceof List<?> items) {
        Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
        List<Object> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
          out.add(bind(items.get(i), element, where + "[" + i + "]"));
        }
        return out;
      }
    } else if (raw.isRecord()) {
      if (tree instanceof JsonReader.Obj obj) {
        return construct(obj, raw, where);
      }
    } else {
      throw new IllegalArgumentException("no JSON binding for " + type + " at " + where);
    }
    throw new IOException("unexpected " + JsonReader.kind(tree) + " at " + where);
  }

  private static Object construct(JsonReader.Obj obj, Class<?> type, String where)
      throws IOException {
    RecordComponent[] components = type.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] args = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      types[i] = c.getType();
      args[i] = bind(obj.get(c.getName()), c.getGenericType(), where + "." + c.getName());
    }
    try {
      Constructor<?> canonical = type.getDeclaredConstructor(types);
      return canonical.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IOException("cannot build " + type.getSimpleName() + " at " + where + ": " + e, e);
    }
  }

  /** {@code n} as a whole number within [min, max], as Jackson reads it; else refused. */
  private static long exact(Number n, long min, long max, String where) throws IOException {
    if (n instanceof Long l && l >= min && l <= max) {
      return l;
    }
    if (n instanceof Double d && d >= min && d <= max && !d.isNaN()) {
      return d.longValue(); // a fraction is cut, as Jackson's default coercion does
    }
    throw new IOException("number out of range at " + where + ": " + n);
  }

  private static Number number(Object tree, String where) throws IOException {
    if (tree instanceof JsonReader.Num n) {
      return n.value();
    }
    if (tree instanceof String s) {
      try {
        return JsonReader.Num.parse(s.strip()).value();
      } catch (NumberFormatException e) {
        throw new IOException("not a number at " + where + ": " + s, e);
      }
    }
    throw new IOException("unexpected " + JsonReader.kind(tree) + " at " + where);
  }

  private static Double nonFinite(String s, String where) throws IOException {
    return switch (s) {
      case "NaN" -> Double.NaN;
      case "Infinity", "+Infinity", "INF" -> Double.POSITIVE_INFINITY;
      case "-Infinity", "-INF" -> Double.NEGATIVE_INFINITY;
      default -> number(s, where).doubleValue();
    };
  }

  private static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    throw new IllegalArgumentException("no JSON binding for " + type);
  }

  private static Object defaultOf(Class<?> primitive) {
    if (primitive == boolean.class) {
      return false;
    }
    if (primitive == long.class) {
      return 0L;
    }
    if (primitive == int.class) {
      return 0;
    }
    if (primitive == double.class) {
      return 0.0;
    }
    throw new IllegalArgumentException("no default for " + primitive);
  }
}
