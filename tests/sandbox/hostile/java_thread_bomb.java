// Attack: Java thread bomb: start sleeping threads until the JVM cannot create more
// Source: catalogue Fork bomb / thread bomb, in Java
// Expect: ACCEPTED with "BLOCKED threads" (OutOfMemoryError: unable to create native thread)
//         or RUNTIME_ERROR
public class Main {
        public static void main(String[] args) {
                int n = 0;
                try {
                        for (; n < 100000; n++) {
                                Thread t = new Thread(() -> {
                                        try {
                                                Thread.sleep(100000);
                                        } catch (InterruptedException e) {
                                        }
                                });
                                t.setDaemon(true);
                                t.start();
                        }
                        System.out.println("ESCAPED started " + n + " threads");
                } catch (Throwable e) {
                        System.out.println("BLOCKED threads after " + n + ": " + e);
                }
                System.exit(0);
        }
}
