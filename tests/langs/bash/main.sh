# SPDX-License-Identifier: Apache-2.0
# Sentinel language test: bash runs arithmetic, arrays and a function, and prints OK.
sum() {
        local total=0
        for n in "$@"; do
                total=$((total + n))
        done
        echo "$total"
}

values=(1 2 3 4)
[[ $(sum "${values[@]}") -eq 10 ]] || exit 1
echo OK
