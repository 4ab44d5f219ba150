/** The reference server: a bare Fastify hello world. Prints `{"port":N}` once it listens; stops on SIGTERM. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ port: Number(new URL(address).port) }));
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
