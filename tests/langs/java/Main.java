// SPDX-License-Identifier: Apache-2.0
// Sentinel language test: the JVM starts, uses a collection and a thread, and prints OK.
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

public class Main {
        public static void main(String[] args) throws InterruptedException {
                List<Integer> list = new ArrayList<>();
                for (int i = 1; i <= 10; i++)
                        list.add(i);
                AtomicInteger sum = new AtomicInteger();
                Thread t = new Thread(() -> list.forEach(sum::addAndGet));
                t.start();
                t.join();
                if (sum.get() != 55)
                        System.exit(1);
                System.out.println("OK");
        }
}
