/**
 * iperf3 3.12 JSON reports written for the parser tests, trimmed to the fields iperf3 prints and the
 * parser reads: a reverse (`-R`) test of two streams, and a failed test.
 */

/** `iperf3 -c 127.0.0.1 -p 5201 -t 2 -P 2 -R -J`, two streams, 12.5 Gbit/s received in total. */
export const REVERSE_TWO_STREAMS = JSON.stringify({
  start: {
    connected: [
      { socket: 5, local_host: '127.0.0.1', local_port: 40100, remote_host: '127.0.0.1', remote_port: 5201 },
      { socket: 7, local_host: '127.0.0.1', local_port: 40102, remote_host: '127.0.0.1', remote_port: 5201 },
    ],
    version: 'iperf 3.12',
    test_start: { protocol: 'TCP', num_streams: 2, blksize: 131072, duration: 2, reverse: 1 },
  },
  intervals: [],
  end: {
    streams: [
      {
        sender: { socket: 5, start: 0, end: 2.0004, seconds: 2.0004, bytes: 1_600_000_000, sender: false },
        receiver: { socket: 5, start: 0, end: 2, seconds: 2, bytes: 1_562_500_000, sender: false },
      },
      {
        sender: { socket: 7, start: 0, end: 2.0004, seconds: 2.0004, bytes: 1_600_000_000, sender: false },
        receiver: { socket: 7, start: 0, end: 2, seconds: 2, bytes: 1_562_500_000, sender: false },
      },
    ],
    sum_sent: {
      start: 0,
      end: 2.0004,
      seconds: 2.0004,
      bytes: 3_200_000_000,
      bits_per_second: 12_797_440_512,
    },
    sum_received: { start: 0, end: 2, seconds: 2, bytes: 3_125_000_000, bits_per_second: 12_500_000_000 },
    cpu_utilization_percent: { host_total: 62.5, host_user: 2.5, host_system: 60, remote_total: 40 },
  },
});

/** What iperf3 prints with `-J` when the test cannot run: no `end`, the reason in `error`. */
export const CONNECT_FAILED = JSON.stringify({
  start: { connected: [], version: 'iperf 3.12' },
  intervals: [],
  end: {},
  error: 'unable to connect to server: Connection refused',
});
