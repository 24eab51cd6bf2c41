"""What the service_framework services of bench/service-framework.ts share: answering the
benchmark on stdout (one line, flushed) and reading its commands from stdin."""
import sys

WINDOW = 500  # messages a publisher may have in flight (bench/service-framework.ts)


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def commands():
    """The benchmark's lines, split into words, until "done" or the end of stdin."""
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == 'done':
            return
        yield words
