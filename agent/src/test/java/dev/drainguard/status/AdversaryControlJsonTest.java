package dev.drainguard.status;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Adversarial review of branch {@code lean}: replies that Jackson (the client's reader until now,
 * and still the reader of the picocli path's peers) refuses, read by the lean client's {@link
 * ControlJson} into a reply with numbers that the agent never sent.
 *
 * <p>Reach: only the agent writes replies (the client believes no socket its user does not serve),
 * and the agent's Jackson never writes a long or an int out of range, so no real worker can send
 * these today. They break the codec's promise to read what Jackson reads (and its "strict" RFC 8259
 * reader): a wrapped number is a silent lie ({@code totalBytes} 2^64 read as 0 bytes queued), where
 * Jackson failed the command. Expected to FAIL until {@code JsonReader.Num.value()} refuses an
 * integer of 64 bits or more for a long, {@code ControlJson.bind} uses {@code Math.toIntExact} / a
 * range check for int and long from a fraction or exponent, the reader refuses leading zeros, and a
 * {@code \}{@code u} escape takes exactly four hex digits ({@code Integer.parseInt} accepts a
 * sign).
 */
class AdversaryControlJsonTest {

  static final String REPLY = "{\"ok\":true,\"status\":{\"phase\":\"HOLDING\",%s}}";

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"queues\":{\"totalBytes\":18446744073709551616}", // 2^64: read as 0
        "\"queues\":{\"totalBytes\":1.9e19}", // read as Long.MAX_VALUE
        "\"heartbeats\":9223372036854775808", // int: read as 0
        "\"heartbeats\":4294967297", // int: read as 1
        "\"pid\":01", // leading zero
        "\"hookProblem\":\"x\\u+041\"" // a sign in a unicode escape
      })
  void whatJacksonRefuses_theLeanReaderMustRefuseToo(String member) throws IOException {
    String json = REPLY.formatted(member);
    assertThatThrownBy(() -> JacksonOracle.JSON.readValue(json, ControlProtocol.Reply.class))
        .as("Jackson refuses %s", json)
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> ControlJson.read(json, ControlProtocol.Reply.class))
        .as("the lean reader reads %s", json)
        .isInstanceOf(IOException.class);
  }
}
