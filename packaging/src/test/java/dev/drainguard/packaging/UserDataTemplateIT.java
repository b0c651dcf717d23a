package dev.drainguard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drainguard.config.Setting;
import dev.drainguard.lifecycle.QueryLifecycleActions;
import dev.drainguard.metrics.StatsdMetrics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * userdata/cloudformation.yaml, parsed with CloudFormation's short-form tags, and
 * userdata/iam-policy.json: the hook, the metadata options, the retention opt-in, the user data,
 * and a role that may call exactly what the agent calls ({@link
 * QueryLifecycleActions#IAM_ACTIONS}).
 */
class UserDataTemplateIT {

  static final Path TEMPLATE = Path.of("../userdata/cloudformation.yaml");
  static final Path IAM_POLICY = Path.of("../userdata/iam-policy.json");
  static final Path INSTALL_SH = Path.of("../userdata/install.sh");

  /** EC2's limit on user data, before base64. */
  static final int USER_DATA_LIMIT = 16 * 1024;

  static final Map<String, Object> T = Cfn.load(TEMPLATE);

  /**
   * A YAML loader that knows CloudFormation's short forms: {@code !Sub x} becomes {@code {Fn::Sub:
   * x}}, {@code !Ref x} {@code {Ref: x}}, {@code !GetAtt a.b} {@code {Fn::GetAtt: [a, b]}}, as
   * CloudFormation itself reads them. An unknown tag fails to load.
   */
  static final class Cfn extends SafeConstructor {

    static final List<String> FUNCTIONS =
        List.of(
            "And",
            "Base64",
            "Cidr",
            "Contains",
            "EachMemberEquals",
            "EachMemberIn",
            "Equals",
            "FindInMap",
            "GetAZs",
            "If",
            "ImportValue",
            "Join",
            "Not",
            "Or",
            "RefAll",
            "Select",
            "Split",
            "Sub",
            "Transform",
            "ValueOf",
            "ValueOfAll");

    Cfn(LoaderOptions options) {
      super(options);
      for (String fn : FUNCTIONS) {
        yamlConstructors.put(new Tag("!" + fn), new Short("Fn::" + fn));
      }
      yamlConstructors.put(new Tag("!Ref"), new Short("Ref"));
      yamlConstructors.put(new Tag("!Condition"), new Short("Condition"));
      yamlConstructors.put(new Tag("!GetAtt"), new Short("Fn::GetAtt"));
    }

    /** One short-form tag: the node's value under the long form's key. */
    final class Short extends AbstractConstruct {
      final String key;

      Short(String key) {
        this.key = key;
      }

      @Override
      public Object construct(Node node) {
        Object value;
        if (node instanceof ScalarNode s) {
          String text = constructScalar(s);
          value = key.equals("Fn::GetAtt") ? List.of(text.split("\\.", 2)) : text;
        } else if (node instanceof SequenceNode s) {
          value = constructSequence(s);
        } else {
          value = constructMapping((MappingNode) node);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key, value);
        return m;
      }
    }

    static Map<String, Object> load(Path file) {
      return new Yaml(new Cfn(new LoaderOptions())).load(Pkg.read(file));
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }

  static Map<String, Object> ref(String name) {
    return Map.of("Ref", name);
  }

  /** The one resource of this type, by its logical id. */
  static Map.Entry<String, Map<String, Object>> only(String type) {
    List<Map.Entry<String, Map<String, Object>>> found = new ArrayList<>();
    map(T.get("Resources"))
        .forEach(
            (id, r) -> {
              if (type.equals(map(r).get("Type"))) {
                found.add(Map.entry(id, map(r)));
              }
            });
    assertThat(found).as("resources of type %s", type).hasSize(1);
    return found.get(0);
  }

  static Map<String, Object> props(String type) {
    return map(only(type).getValue().get("Properties"));
  }

  static Map<String, Object> parameter(String name) {
    return map(map(T.get("Parameters")).get(name));
  }

  static Map<String, Object> groupProps() {
    return props("AWS::AutoScaling::AutoScalingGroup");
  }

  /** The group's name as the template builds it (a Sub, known before the group exists). */
  static String groupNameSub() {
    return (String) map(groupProps().get("AutoScalingGroupName")).get("Fn::Sub");
  }

  /** The statements of the instance role, the one the launch template's profile carries. */
  static List<Map<String, Object>> roleStatements() {
    Map<String, Object> lt = map(props("AWS::EC2::LaunchTemplate").get("LaunchTemplateData"));
    String profile = only("AWS::IAM::InstanceProfile").getKey();
    assertThat(map(lt.get("IamInstanceProfile")).get("Arn"))
        .isEqualTo(Map.of("Fn::GetAtt", List.of(profile, "Arn")));
    String role = only("AWS::IAM::Role").getKey();
    assertThat(props("AWS::IAM::InstanceProfile").get("Roles")).isEqualTo(List.of(ref(role)));

    Map<String, Object> roleProps = props("AWS::IAM::Role");
    // nothing else may grant the role anything
    assertThat(roleProps).doesNotContainKeys("ManagedPolicyArns", "PermissionsBoundary");
    for (Object r : map(T.get("Resources")).values()) {
      assertThat(map(r).get("Type"))
          .isNotIn("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy");
    }
    List<Object> policies = list(roleProps.get("Policies"));
    // the agent's policy, and the fleet metrics' one that only FleetMetrics=true adds
    assertThat(policies).hasSize(2);
    return statements(map(map(policies.get(0)).get("PolicyDocument")));
  }

  /** The role's second policy: present only when the FleetMetrics condition holds. */
  static List<Map<String, Object>> fleetMetricsStatements() {
    List<Object> policies = list(props("AWS::IAM::Role").get("Policies"));
    List<Object> ifFleet = list(map(policies.get(1)).get("Fn::If"));
    assertThat(ifFleet).hasSize(3);
    assertThat(ifFleet.get(0)).isEqualTo("FleetMetrics");
    assertThat(ifFleet.get(2)).isEqualTo(ref("AWS::NoValue"));
    return statements(map(map(ifFleet.get(1)).get("PolicyDocument")));
  }

  static List<Map<String, Object>> statements(Map<String, Object> document) {
    assertThat(document.get("Version")).isEqualTo("2012-10-17");
    List<Map<String, Object>> statements = new ArrayList<>();
    for (Object s : list(document.get("Statement"))) {
      Map<String, Object> st = map(s);
      assertThat(st.get("Effect")).isEqualTo("Allow");
      assertThat(st).doesNotContainKeys("NotAction", "NotResource", "Principal");
      statements.add(st);
    }
    return statements;
  }

  static List<String> actions(Map<String, Object> statement) {
    Object a = statement.get("Action");
    return a instanceof String s ? List.of(s) : list(a).stream().map(String.class::cast).toList();
  }

  /**
   * Asserts the statements allow exactly the agent's actions, the describe calls on "*" and every
   * other one on {@code groupArn} only.
   */
  static void assertExactlyTheAgentsActions(List<Map<String, Object>> statements, Object groupArn) {
    List<String> all = new ArrayList<>();
    for (Map<String, Object> st : statements) {
      List<String> actions = actions(st);
      all.addAll(actions);
      boolean describe = actions.stream().allMatch(a -> a.startsWith("autoscaling:Describe"));
      boolean mutating = actions.stream().noneMatch(a -> a.startsWith("autoscaling:Describe"));
      assertThat(describe || mutating)
          .as("describe and mutating actions in separate statements: %s", actions)
          .isTrue();
      // describe calls support no resource-level permission; everything else is this group's
      assertThat(st.get("Resource"))
          .as("resource of %s", actions)
          .isEqualTo(describe ? "*" : groupArn);
    }
    assertThat(all).doesNotHaveDuplicates().noneMatch(a -> a.contains("*"));
    assertThat(all).containsExactlyInAnyOrderElementsOf(QueryLifecycleActions.IAM_ACTIONS);
  }

  @Test
  void theHookHoldsTerminationsWithTheTimeoutAndResultAsParameters() {
    List<Object> hooks = list(groupProps().get("LifecycleHookSpecificationList"));
    assertThat(hooks).hasSize(1);
    Map<String, Object> hook = map(hooks.get(0));

    assertThat(hook)
        .containsEntry("LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING")
        .containsEntry("HeartbeatTimeout", ref("HeartbeatTimeout"))
        .containsEntry("DefaultResult", ref("DefaultResult"));
    assertThat(parameter("HeartbeatTimeout"))
        .containsEntry("Type", "Number")
        .containsEntry("MinValue", 30)
        .containsEntry("MaxValue", 7200);
    assertThat(parameter("DefaultResult").get("AllowedValues"))
        .isEqualTo(List.of("ABANDON", "CONTINUE"));
    // no second, separately created hook the agent would have to choose from
    assertThat(map(T.get("Resources")).values())
        .noneMatch(r -> "AWS::AutoScaling::LifecycleHook".equals(map(r).get("Type")));
  }

  @Test
  void instancesAreRetainedOnAbandonOnlyWhenTheParameterOptsIn() {
    assertThat(groupProps().get("InstanceLifecyclePolicy"))
        .isEqualTo(
            Map.of(
                "Fn::If",
                List.of(
                    "RetainOnAbandon",
                    Map.of("RetentionTriggers", Map.of("TerminateHookAbandon", "retain")),
                    ref("AWS::NoValue"))));
    assertThat(map(T.get("Conditions")).get("RetainOnAbandon"))
        .isEqualTo(Map.of("Fn::Equals", List.of(ref("RetainOnAbandon"), "true")));
    assertThat(parameter("RetainOnAbandon")).containsEntry("Default", "false");
    // deadline-policy retain without retention would lose the data it means to keep
    assertThat(map(map(T.get("Rules")).get("RetainPolicyNeedsRetention")))
        .containsEntry(
            "RuleCondition", Map.of("Fn::Equals", List.of(ref("DeadlinePolicy"), "retain")))
        .containsEntry(
            "Assertions",
            List.of(
                Map.of(
                    "Assert",
                    Map.of("Fn::Equals", List.of(ref("RetainOnAbandon"), "true")),
                    "AssertDescription",
                    "DeadlinePolicy retain needs RetainOnAbandon=true (TerminateHookAbandon"
                        + " retain).")));
  }

  @Test
  void theLaunchTemplateRequiresImdsV2TokensWithHopLimitOneAndTags() {
    Map<String, Object> lt = map(props("AWS::EC2::LaunchTemplate").get("LaunchTemplateData"));

    assertThat(map(lt.get("MetadataOptions")))
        .containsEntry("HttpEndpoint", "enabled")
        .containsEntry("HttpTokens", "required")
        .containsEntry("HttpPutResponseHopLimit", 1)
        .containsEntry("InstanceMetadataTags", "enabled");
    assertThat(lt.get("ImageId")).isEqualTo(ref("LatestAmiId"));
    assertThat(parameter("LatestAmiId"))
        .containsEntry("Type", "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>")
        .containsEntry(
            "Default", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
    assertThat(map(groupProps().get("LaunchTemplate")))
        .containsEntry("LaunchTemplateId", ref(only("AWS::EC2::LaunchTemplate").getKey()));
  }

  @Test
  void theRoleMayCallExactlyTheAgentsActionsTheMutatingOnesOnThisGroupOnly() {
    String arn =
        "arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}"
            + ":autoScalingGroup:*:autoScalingGroupName/"
            + groupNameSub();

    assertThat(groupNameSub()).isEqualTo("${AWS::StackName}-workers");
    assertExactlyTheAgentsActions(roleStatements(), Map.of("Fn::Sub", arn));
    Map<String, Object> trust = map(props("AWS::IAM::Role").get("AssumeRolePolicyDocument"));
    assertThat(list(trust.get("Statement")))
        .containsExactly(
            Map.of(
                "Effect",
                "Allow",
                "Principal",
                Map.of("Service", "ec2.amazonaws.com"),
                "Action",
                "sts:AssumeRole"));
  }

  @Test
  void iamPolicyJsonAllowsExactlyTheAgentsActionsAndIsTheTemplatesPolicy() {
    Map<String, Object> json = map(new Yaml().load(Pkg.read(IAM_POLICY)));
    String placeholderArn =
        "arn:aws:autoscaling:REGION:ACCOUNT_ID:autoScalingGroup:*:autoScalingGroupName/GROUP_NAME";

    assertExactlyTheAgentsActions(statements(json), placeholderArn);

    // the template's policy, its ARN written with the same placeholders, is the same document
    Map<String, Object> fromTemplate = new LinkedHashMap<>();
    fromTemplate.put("Version", "2012-10-17");
    List<Object> st = new ArrayList<>();
    for (Map<String, Object> s : roleStatements()) {
      Map<String, Object> copy = new LinkedHashMap<>(s);
      if (copy.get("Resource") instanceof Map<?, ?> sub) {
        copy.put(
            "Resource",
            ((String) sub.get("Fn::Sub"))
                .replace("${AWS::Partition}", "aws")
                .replace("${AWS::Region}", "REGION")
                .replace("${AWS::AccountId}", "ACCOUNT_ID")
                .replace(groupNameSub(), "GROUP_NAME"));
      }
      st.add(copy);
    }
    fromTemplate.put("Statement", st);
    assertThat(json).isEqualTo(fromTemplate);
  }

  @Test
  void theUserDataInstallsCriblAndThenDrainguardWithInstallShAndStartsIt() {
    List<Object> parts = userDataParts();
    String header = (String) map(parts.get(0)).get("Fn::Sub");
    String script = (String) parts.get(1);
    String footer = (String) parts.get(2);

    // the script is install.sh itself, without its comments (userdata/embed.sh keeps the copy)
    assertThat(script)
        .as("the copy of install.sh in cloudformation.yaml; run sh userdata/embed.sh")
        .isEqualTo(Pkg.uncommented(Pkg.read(INSTALL_SH)));
    assertThat(script).contains("run systemctl enable --now drainguard");
    assertThat(header)
        .startsWith("#!/bin/bash\n")
        .contains(
            "export DRAINGUARD_PACKAGE_URL='${DrainguardPackageUrl}'",
            "export DRAINGUARD_PACKAGE_SHA256='${DrainguardPackageSha256}'",
            "export DRAINGUARD_ASG_NAME='" + groupNameSub() + "'",
            "export DRAINGUARD_HOOK_NAME=" + hookName() + "\n",
            "export DRAINGUARD_DEADLINE_POLICY='${DeadlinePolicy}'",
            "/opt/cribl/bin/cribl mode-worker -H '${LeaderHost}' -p '${LeaderPort}'",
            "/opt/cribl/bin/cribl boot-start enable -m systemd -u cribl",
            "cat >/usr/local/sbin/drainguard-install <<'DRAINGUARD_INSTALL_SH'\n")
        // the service is started and checked, not skipped
        .doesNotContain("DRAINGUARD_SKIP_", "DRAINGUARD_ROOT");
    assertThat(header.indexOf("mode-worker")).isLessThan(header.indexOf("cat >/usr/local/sbin"));
    assertThat(footer).isEqualTo("DRAINGUARD_INSTALL_SH\nsh /usr/local/sbin/drainguard-install\n");
    assertThat(parameter("DrainguardPackageUrl").get("AllowedPattern"))
        .isEqualTo("^https://[^'\\s]+$");
    // issue 20: the checksum was optional (empty by default), so nothing was verified
    assertThat(parameter("DrainguardPackageSha256"))
        .doesNotContainKey("Default")
        .containsEntry("AllowedPattern", "^[0-9a-fA-F]{64}$");
  }

  @Test
  void theUserDataFitsEc2sLimitWithLongValues() {
    // EC2 refuses user data over 16 KiB: the copy of install.sh leaves room for the values
    int size = renderedUserData(true).getBytes(StandardCharsets.UTF_8).length;
    System.out.printf("user data: %d bytes of %d%n", size, USER_DATA_LIMIT);
    assertThat(size).isLessThan(USER_DATA_LIMIT);
  }

  @Test
  void everyReferenceNamesAParameterResourceOrCondition() {
    Set<String> names = new TreeSet<>(map(T.get("Parameters")).keySet());
    names.addAll(map(T.get("Resources")).keySet());
    Set<String> refs = new TreeSet<>();
    Set<String> conditions = new TreeSet<>();
    walk(T.get("Resources"), refs, conditions);
    walk(T.get("Outputs"), refs, conditions);
    walk(T.get("Rules"), refs, conditions);

    assertThat(refs).isNotEmpty().allMatch(r -> names.contains(r) || r.startsWith("AWS::"));
    assertThat(conditions).isNotEmpty().isSubsetOf(map(T.get("Conditions")).keySet());
    // and every parameter is used
    assertThat(refs).containsAll(map(T.get("Parameters")).keySet());
  }

  static final Pattern SUB_VAR = Pattern.compile("\\$\\{([^!}][^}]*)}");

  static void walk(Object node, Set<String> refs, Set<String> conditions) {
    if (node instanceof Map<?, ?> m) {
      m.forEach(
          (k, v) -> {
            switch (String.valueOf(k)) {
              case "Ref" -> refs.add((String) v);
              case "Fn::GetAtt" -> refs.add((String) list(v).get(0));
              case "Fn::If" -> conditions.add((String) list(v).get(0));
              case "Fn::Sub" -> {
                Matcher sub = SUB_VAR.matcher(v instanceof String s ? s : (String) list(v).get(0));
                while (sub.find()) {
                  refs.add(sub.group(1).split("\\.")[0]);
                }
              }
              default -> {}
            }
            walk(v, refs, conditions);
          });
    } else if (node instanceof List<?> l) {
      l.forEach(e -> walk(e, refs, conditions));
    }
  }

  static String hookName() {
    return (String)
        map(list(groupProps().get("LifecycleHookSpecificationList")).get(0))
            .get("LifecycleHookName");
  }

  static List<Object> userDataParts() {
    Map<String, Object> lt = map(props("AWS::EC2::LaunchTemplate").get("LaunchTemplateData"));
    Map<String, Object> join = map(map(lt.get("UserData")).get("Fn::Base64"));
    List<Object> args = list(join.get("Fn::Join"));
    assertThat(args.get(0)).isEqualTo("");
    List<Object> parts = list(args.get(1));
    assertThat(parts).hasSize(3);
    return parts;
  }

  /**
   * The user data as an instance gets it, every ${...} replaced as CloudFormation would: with long
   * values for the size check, or short ones.
   */
  static String renderedUserData(boolean longValues) {
    Map<String, String> values = new LinkedHashMap<>();
    values.put("AWS::StackName", longValues ? "s".repeat(64) : "cribl");
    values.put("AWS::Region", "ap-southeast-2");
    values.put(
        "DrainguardPackageUrl",
        "https://"
            + (longValues ? "b".repeat(200) : "example.com")
            + "/drainguard-0.1.0-1.noarch.rpm");
    values.put("DrainguardPackageSha256", "a".repeat(64));
    values.put("LeaderHost", longValues ? "l".repeat(120) : "leader.example.com");
    values.put("LeaderPort", "4200");
    values.put("CriblAuthToken", longValues ? "t".repeat(128) : "token");
    values.put("CriblWorkerGroup", longValues ? "g".repeat(64) : "default");
    values.put("CriblLeaderTls", "false");
    values.put("CriblDownloadUrl", longValues ? "https://" + "c".repeat(200) + "/cribl.tgz" : "");
    values.put("DeadlinePolicy", "expire");
    values.put("ProtectWhileBusy", "true");
    values.put("MetricsPort", "9464");
    // on, so that the CloudWatch agent's part counts in the size and goes through shellcheck
    values.put("FleetMetrics", "true");
    StringBuilder out = new StringBuilder();
    for (Object part : userDataParts()) {
      if (part instanceof String s) {
        out.append(s);
      } else {
        Matcher m = SUB_VAR.matcher((String) map(part).get("Fn::Sub"));
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
          assertThat(values).as("a value for ${%s}", m.group(1)).containsKey(m.group(1));
          m.appendReplacement(sb, Matcher.quoteReplacement(values.get(m.group(1))));
        }
        m.appendTail(sb);
        out.append(sb);
      }
    }
    return out.toString();
  }

  /** The CloudWatch agent's config, as the user data writes it. */
  static Map<String, Object> cloudWatchAgentConfig() {
    String header = (String) map(userDataParts().get(0)).get("Fn::Sub");
    Matcher m = Pattern.compile("echo '(\\{[^']*})' >\\$cw/etc/statsd\\.json").matcher(header);
    assertThat(m.find()).as("the CloudWatch agent's JSON in the user data").isTrue();
    // JSON is YAML: a syntax error fails here, as it would fail the agent's fetch-config
    return map(new Yaml().load(m.group(1)));
  }

  @Test
  void fleetMetrics_theCloudWatchAgentListensForStatsdWhereTheAgentSends_onlyWhenOptedIn() {
    assertThat(parameter("FleetMetrics"))
        .containsEntry("Default", "false")
        .containsEntry("AllowedValues", List.of("true", "false"));
    assertThat(map(T.get("Conditions")).get("FleetMetrics"))
        .isEqualTo(Map.of("Fn::Equals", List.of(ref("FleetMetrics"), "true")));

    Map<String, Object> metrics = map(cloudWatchAgentConfig().get("metrics"));
    Map<String, Object> statsd = map(map(metrics.get("metrics_collected")).get("statsd"));
    assertThat(metrics.get("namespace")).isEqualTo("drainguard");
    // only StatsD: no other collector, so the role needs no other permission
    assertThat(map(metrics.get("metrics_collected")).keySet()).containsExactly("statsd");
    assertThat(cloudWatchAgentConfig().keySet()).containsExactlyInAnyOrder("agent", "metrics");

    String header = (String) map(userDataParts().get(0)).get("Fn::Sub");
    String listen = (String) statsd.get("service_address");
    assertThat(listen).isEqualTo("127.0.0.1:8125");
    // the agent sends where the CloudWatch agent listens, with tags it reads (DogStatsD tags:
    // datadog, the agent's default statsd-flavor), and only once the CloudWatch agent runs
    assertThat(header)
        .contains(
            "fleet='${FleetMetrics}'\n",
            "if [ \"$fleet\" = true ] && dnf install -y amazon-cloudwatch-agent &&\n",
            "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:$cw/etc/statsd.json;"
                + " then\n  export "
                + Setting.STATSD_ADDRESS.env()
                + "="
                + listen
                + "\nfi\n")
        .doesNotContain(Setting.STATSD_FLAVOR.env());
    assertThat(Setting.STATSD_FLAVOR.defaultValue()).isEqualTo("datadog");
    assertThat(header.indexOf(Setting.STATSD_ADDRESS.env()))
        .isLessThan(header.indexOf("cat >/usr/local/sbin/drainguard-install"));
  }

  @Test
  void fleetMetrics_theRoleMayPutMetricDataInTheDrainguardNamespaceOnly() {
    List<Map<String, Object>> statements = fleetMetricsStatements();
    assertThat(statements).hasSize(1);
    Map<String, Object> st = statements.get(0);
    assertThat(actions(st)).containsExactly("cloudwatch:PutMetricData");
    assertThat(st.get("Resource")).isEqualTo("*");
    Object namespace = map(cloudWatchAgentConfig().get("metrics")).get("namespace");
    assertThat(st.get("Condition"))
        .isEqualTo(Map.of("StringEquals", Map.of("cloudwatch:namespace", namespace)));
  }

  @Test
  void fleetMetrics_alarmsOnBytesAtRiskAndOnHoldingTooLong_acrossTheGroupsWorkers() {
    Object namespace = map(cloudWatchAgentConfig().get("metrics")).get("namespace");
    Map<String, Object> alarms = new LinkedHashMap<>();
    map(T.get("Resources"))
        .forEach(
            (id, r) -> {
              if ("AWS::CloudWatch::Alarm".equals(map(r).get("Type"))) {
                assertThat(map(r).get("Condition")).as(id).isEqualTo("FleetMetrics");
                alarms.put(id, map(r).get("Properties"));
              }
            });
    assertThat(alarms).containsOnlyKeys("BytesAtRiskAlarm", "HoldingTooLongAlarm");

    Map<String, Object> atRisk = map(alarms.get("BytesAtRiskAlarm"));
    assertThat(query(atRisk))
        .isEqualTo(
            "SELECT MAX(drainguard_forecast_bytes_at_risk) FROM "
                + namespace
                + " WHERE \"group\" = '"
                + groupNameSub()
                + "'");
    assertThat(atRisk)
        .containsEntry("ComparisonOperator", "GreaterThanThreshold")
        .containsEntry("Threshold", 0)
        .containsEntry("TreatMissingData", "notBreaching");

    Map<String, Object> held = map(alarms.get("HoldingTooLongAlarm"));
    assertThat(query(held))
        .isEqualTo(
            "SELECT MAX(drainguard_held_seconds) FROM "
                + namespace
                + " WHERE \"group\" = '"
                + groupNameSub()
                + "'");
    assertThat(held)
        .containsEntry("Threshold", ref("HoldAlarmSeconds"))
        .containsEntry("ComparisonOperator", "GreaterThanThreshold");
    assertThat(parameter("HoldAlarmSeconds")).containsEntry("Default", 7200);

    // the metrics alarmed on are among those the agent sends over StatsD
    for (Map<String, Object> a : List.of(atRisk, held)) {
      String metric = query(a).replaceAll("^SELECT MAX\\(([a-z_]+)\\).*", "$1");
      assertThat(StatsdMetrics.metricNames()).contains(metric);
      Object notify =
          Map.of(
              "Fn::If", List.of("AlarmTopic", List.of(ref("AlarmTopicArn")), ref("AWS::NoValue")));
      assertThat(a).containsEntry("AlarmActions", notify).containsEntry("OKActions", notify);
    }
  }

  /** The alarm's one Metrics Insights query, its group name as the template builds it. */
  static String query(Map<String, Object> alarm) {
    List<Object> metrics = list(alarm.get("Metrics"));
    assertThat(metrics).hasSize(1);
    Map<String, Object> m = map(metrics.get(0));
    assertThat(m).containsEntry("Period", 60).containsEntry("ReturnData", true);
    return ((String) map(m.get("Expression")).get("Fn::Sub")).replace("\n", " ");
  }
}
