// SPDX-License-Identifier: Apache-2.0
// Sentinel language test: the C++ toolchain compiles with the standard library and prints OK.
#include <algorithm>
#include <iostream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

int main()
{
        std::vector<int> v{5, 3, 9, 1, 7};
        std::sort(v.begin(), v.end());
        std::map<std::string, int> m{{"sum", std::accumulate(v.begin(), v.end(), 0)}};
        if (v.front() != 1 || m.at("sum") != 25)
                return 1;
        std::cout << "OK" << std::endl;
        return 0;
}
