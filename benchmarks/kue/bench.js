// Kue 0.11.6 doing the workbook's job: `node bench.js HOST PORT JOBS CONCURRENCY`, Redis's
// password (if any) in KUE_REDIS_PASSWORD.
// A worker process of its own processes `push_notification_code` jobs CONCURRENCY at a time
// (progress 0 and 50, the notification line, done), as the original's task 9 does; this
// process creates JOBS jobs and listens for each one's `complete`, as its task 10 does. The
// clock runs from the first job created to the last `complete` heard. Prints one JSON line.
const { fork } = require('child_process');
const kue = require('kue');

const host = process.argv[2];
const [port, jobs, concurrency] = process.argv.slice(3, 6).map(Number);
const auth = process.env.KUE_REDIS_PASSWORD || undefined;
const queue = kue.createQueue({ prefix: 'kuebench', redis: { host, port, auth } });
const data = { phoneNumber: '4153518743', message: 'This is the code 4321 to verify your account' };

if (process.argv[6] === 'work') {
  queue.process('push_notification_code', concurrency, (job, done) => {
    job.progress(0, 100);
    job.progress(50, 100);
    process.stdout.write(`Sending notification to ${job.data.phoneNumber}, with message: ${job.data.message}\n`);
    done();
  });
  queue.client.once('ready', () => process.send('ready'));
} else {
  const worker = fork(__filename, [...process.argv.slice(2, 6), 'work'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  worker.once('message', () => {
    let completed = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < jobs; i += 1) {
      const job = queue.create('push_notification_code', data);
      job.on('complete', () => {
        completed += 1;
        if (completed === jobs) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          console.log(JSON.stringify({ jobs, seconds, jobs_per_s: jobs / seconds }));
          worker.kill();
          process.exit(0);
        }
      });
      job.save();
    }
  });
}
