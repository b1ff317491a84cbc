// Attack: Java runs a shell command and reads host files through the JDK
// Source: catalogue Reading what it should not (in Java); Judge0 #564
// Expect: ACCEPTED; /etc/shadow and the canary are not readable, uid is not 0
import java.nio.file.Files;
import java.nio.file.Paths;

public class Main {
        public static void main(String[] args) throws Exception {
                for (String p : new String[] {"/etc/shadow", "@CANARY@"}) {
                        try {
                                System.out.println("ESCAPED " + new String(Files.readAllBytes(Paths.get(p))));
                        } catch (Exception e) {
                                System.out.println("BLOCKED " + p + " " + e.getClass().getSimpleName());
                        }
                }
                Process pr = new ProcessBuilder("/usr/bin/id").redirectErrorStream(true).start();
                String out = new String(pr.getInputStream().readAllBytes()).trim();
                pr.waitFor();
                System.out.println("ID " + out);
                System.out.println("USER " + System.getProperty("user.name") + " HOME " + System.getProperty("user.home"));
        }
}
