# Attack: shell reconnaissance: who am I, what is mounted, which devices, can I reach the host
# Source: amicontained / deepce style probing; udge pinfo
# Expect: ACCEPTED with "BLOCKED" lines; no ESCAPED
echo "ID $(id)"
[ "$(id -u)" = 0 ] && echo "ESCAPED root"
for p in /etc/shadow '@CANARY@' /root /home /work /sys/fs/cgroup /run/sentinel; do
        if [ -e "$p" ]; then echo "ESCAPED sees $p"; else echo "BLOCKED $p"; fi
done
if (exec 3<>/dev/tcp/127.0.0.1/@PORT@) 2>/dev/null; then echo "ESCAPED tcp"; else echo "BLOCKED tcp"; fi
if (exec 3<>/dev/udp/127.0.0.1/@UDPPORT@ && echo leak >&3) 2>/dev/null; then echo "SENT udp"; else echo "BLOCKED udp"; fi
echo "ROOT $(ls / | tr '\n' ' ')"
echo "DEV $(ls /dev | tr '\n' ' ')"
