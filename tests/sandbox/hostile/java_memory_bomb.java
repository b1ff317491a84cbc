// Attack: Java heap bomb: keep 1 MiB arrays until the heap is gone
// Source: catalogue Memory bomb (heap), in Java
// Expect: RUNTIME_ERROR (java.lang.OutOfMemoryError) or MEMORY_LIMIT_EXCEEDED
import java.util.ArrayList;
import java.util.List;

public class Main {
        public static void main(String[] args) {
                List<byte[]> keep = new ArrayList<>();
                for (int i = 0; i < 100000; i++) {
                        byte[] b = new byte[1 << 20];
                        b[i % b.length] = 1;
                        keep.add(b);
                }
                System.out.println("ESCAPED kept " + keep.size() + " MiB");
        }
}
