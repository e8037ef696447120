// Runs Kafka's AclCommand (the class behind kafka-acls.sh) several times in one JVM: a JVM per
// command costs seconds, and the tests grant a dozen ACL sets. Standard input holds the
// commands' arguments, one argument per line, a blank line after each command. AclCommand
// exits the JVM with status 1 when a command fails, so a failure stops the batch.
//
//   java -cp '<kafka libs>/*:<kafka-tools jar>' deploy/kafka/AclBatch.java < commands
//
// Used by kairos_devstack.kafka_acls.apply; operators run kafka-acls.sh itself.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

public class AclBatch {
    public static void main(String[] args) throws Exception {
        BufferedReader input =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<String> command = new ArrayList<>();
        String line;
        while ((line = input.readLine()) != null) {
            if (line.isEmpty()) {
                run(command);
                command.clear();
            } else {
                command.add(line);
            }
        }
        run(command);
    }

    private static void run(List<String> command) {
        if (command.isEmpty()) {
            return;
        }
        org.apache.kafka.tools.AclCommand.main(command.toArray(new String[0]));
    }
}
