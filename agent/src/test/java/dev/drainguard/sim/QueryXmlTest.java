package dev.drainguard.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QueryXmlTest {

  @Test
  void response_emptyResult_writesSelfClosedResultAndRequestId() {
    String xml = QueryXml.response("RecordLifecycleActionHeartbeat", new QueryXml(), "req-1");

    assertThat(xml)
        .isEqualTo(
            "<RecordLifecycleActionHeartbeatResponse"
                + " xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
                + "<RecordLifecycleActionHeartbeatResult/>"
                + "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
                + "</RecordLifecycleActionHeartbeatResponse>");
  }

  @Test
  void error_messageWithMarkup_isEscaped() {
    String xml = QueryXml.error("Sender", "ValidationError", "a <b> & 'c'", "req-2");

    assertThat(xml)
        .isEqualTo(
            "<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
                + "<Error><Type>Sender</Type><Code>ValidationError</Code>"
                + "<Message>a &lt;b&gt; &amp; &apos;c&apos;</Message></Error>"
                + "<RequestId>req-2</RequestId></ErrorResponse>");
  }

  @Test
  void leaf_nullValue_isLeftOut() {
    assertThat(new QueryXml().open("m").leaf("A", null).leaf("B", 3).close("m").toString())
        .isEqualTo("<m><B>3</B></m>");
  }
}
