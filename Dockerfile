# The example bot, run from the built package (dist/), as a bot in production would run it.
# docker build -t wechat-mp-bot . && docker run --env-file .env -p 3000:3000 -v bot-data:/app/data wechat-mp-bot
# Several instances with Redis behind a proxy: compose.yaml.

# better-sqlite3 builds from source when no prebuilt binary matches: it needs python3, make and g++.
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# Everything, to compile the TypeScript into dist/.
FROM toolchain AS build
RUN npm ci
COPY core core
COPY plugins plugins
COPY app app
COPY tsconfig.json tsconfig.build.json ./
RUN npm run build

# What runs: the dependencies without the dev ones.
FROM toolchain AS deps
RUN npm ci --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 BOT_STORE=sqlite://data/bot.sqlite
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json bot.config.ts ./
# The example config imports the framework's source; here it takes the built package instead.
RUN sed -i "s#'./core/index.ts'#'./dist/core/index.js'#" bot.config.ts \
 && mkdir -p data && chown node:node data
USER node
EXPOSE 3000
VOLUME ["/app/data"]
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/app/cli/bin.js", "start"]
