// SPDX-License-Identifier: Apache-2.0
// A starter program per language (read from stdin, so the stdin panel has something to do), and
// the Monaco language mode each one is edited with.

export const MONACO_LANGUAGE: Record<string, string> = {
  python: 'python',
  c: 'c',
  cpp: 'cpp',
  javascript: 'javascript',
  java: 'java',
  bash: 'shell',
};

export const STARTERS: Record<string, string> = {
  python: `import sys

name = sys.stdin.readline().strip() or "world"
print(f"Hello, {name}!")
`,
  c: `#include <stdio.h>
#include <string.h>

int main(void)
{
        char name[64] = "world";
        if (fgets(name, sizeof name, stdin))
                name[strcspn(name, "\\n")] = '\\0';
        printf("Hello, %s!\\n", *name ? name : "world");
        return 0;
}
`,
  cpp: `#include <iostream>
#include <string>

int main()
{
    std::string name;
    if (!std::getline(std::cin, name) || name.empty())
        name = "world";
    std::cout << "Hello, " << name << "!" << std::endl;
}
`,
  javascript: `const input = require("fs").readFileSync(0, "utf8").trim();
console.log(\`Hello, \${input || "world"}!\`);
`,
  java: `import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        String name = in.hasNextLine() ? in.nextLine().trim() : "";
        System.out.println("Hello, " + (name.isEmpty() ? "world" : name) + "!");
    }
}
`,
  bash: `read -r name || true
echo "Hello, \${name:-world}!"
`,
};

export function starterFor(language: string): string {
  return STARTERS[language] ?? `// ${language}\n`;
}
