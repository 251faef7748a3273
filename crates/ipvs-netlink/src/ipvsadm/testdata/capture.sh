#!/bin/sh
ip netns add cap
X="ip netns exec cap"
$X ip link set lo up
$X ip link add eth0 type veth peer name eth1
$X ip link set eth0 up; $X ip link set eth1 up
$X ipvsadm -A -t 192.0.2.1:80 -s sh -b sh-port,sh-fallback -p 100 -M 255.255.255.0
$X ipvsadm -A -u 192.0.2.1:53 -s rr -o
$X ipvsadm -A -f 5 -6 -s mh -b mh-port
$X ipvsadm -A -f 7 -s wlc -b flag-1,flag-3 -p
$X ipvsadm -A -t [2001:db8::1]:443 -s wrr -p -M 64 --pe sip
$X ipvsadm -A --sctp-service 203.0.113.9:3868 -s lc
$X ipvsadm -A -t 203.0.113.200:8080 -s nq
$X ipvsadm -A -t 10.0.0.1:80 -s fo
$X ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2 -m -w 3 -x 10 -y 5
$X ipvsadm -a -t 192.0.2.1:80 -r 2001:db8::5 -i --tun-type gue --tun-port 6080 --tun-csum
$X ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.3 -i --tun-type gre --tun-csum
$X ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.4 -i
$X ipvsadm -a -t 192.0.2.1:80 -r 10.1.2.3:8080 -m -w 0
$X ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -g -w 65535
$X ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::9]:443 -g
$X ipvsadm -a -f 7 -r 198.51.100.7 -g
$X ipvsadm -a -f 7 -r 198.51.100.8:0 -m
$X ipvsadm -a -u 192.0.2.1:53 -r 198.51.100.53 -m
$X ipvsadm --set 1000 100 200
$X ipvsadm --start-daemon master --mcast-interface eth0 --syncid 7
$X ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 9 --mcast-group 224.0.0.99 --mcast-port 9999 --mcast-ttl 3 --sync-maxlen 1400
for a in "-Ln" "-S -n" "-Ln --tun-info" "-Ln --stats" "-Ln --rate" "-Ln --stats --exact" "-Ln --thresholds" "-Ln --persistent-conn" "-L --timeout" "-L --daemon" "-Ln -t 192.0.2.1:80" "-Ln -f 7 --stats" "-Ln --nosort"; do
  echo "=== $a"
  $X ipvsadm $a 2>&1
done
echo "=== errors"
for c in "-A -t 192.0.2.1:80" "-D -t 192.0.2.99:80" "-a -t 192.0.2.1:80 -r 198.51.100.2 -m" "-d -t 192.0.2.1:80 -r 198.51.100.99" "-e -t 192.0.2.99:80 -r 198.51.100.2" "-A -t 192.0.2.50:80 -s bogus" "-A -t 192.0.2.1:0" "-a -t 192.0.2.1:80 -r 198.51.100.2 -w 70000" "-A -t 192.0.2.51:80 -x 3" "-Ln -c --stats" "--stop-daemon master" "--stop-daemon master" "-Z -t 192.0.2.99:80" "-E -t 192.0.2.99:80" "-a -t 192.0.2.1:80 -r 198.51.100.20 --tun-type gue"; do
  echo "--- ipvsadm $c"
  $X ipvsadm $c; echo "exit=$?"
done 2>&1
