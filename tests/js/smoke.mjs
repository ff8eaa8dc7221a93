// The AWS SDK for JavaScript v3, unmodified, against nubo (NUBO_ENDPOINT): one scenario per
// protocol family. Prints one JSON object of what it saw; tests/test_js_sdk.py asserts on it.
import { createHash, randomUUID } from "node:crypto";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, CreateMultipartUploadCommand, UploadPartCommand,
  CompleteMultipartUploadCommand } from "@aws-sdk/client-s3";
import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand,
  DeleteMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBClient, CreateTableCommand, PutItemCommand, GetItemCommand, QueryCommand }
  from "@aws-sdk/client-dynamodb";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const config = {
  endpoint: process.env.NUBO_ENDPOINT,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
};
const seen = {};
const suffix = randomUUID().slice(0, 8);

async function errorName(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return { name: error.name, status: error.$metadata?.httpStatusCode };
  }
}

const md5 = (data) => createHash("md5").update(data).digest("hex");

// S3 (rest-xml): default CRC32 checksums, a 6 MiB streamed upload, multipart, errors
const s3 = new S3Client({ ...config, forcePathStyle: true });
const bucket = `js-${suffix}`;
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "small.txt",
  Body: "hello from js", ContentType: "text/plain" }));
seen.s3PutETag = put.ETag;
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "small.txt" }));
seen.s3Get = { body: await got.Body.transformToString(), contentType: got.ContentType };
const big = Buffer.alloc(6 * 1024 * 1024, "b");
await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big.bin", Body: big }));
const bigBack = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big.bin" }));
seen.s3Big = { sameMd5: md5(Buffer.from(await bigBack.Body.transformToByteArray())) === md5(big),
  length: bigBack.ContentLength };
const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "multi" }));
const parts = [];
for (const [number, data] of [[1, Buffer.alloc(5 * 1024 * 1024, "1")], [2, Buffer.from("end")]]) {
  const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "multi",
    UploadId: upload.UploadId, PartNumber: number, Body: data }));
  parts.push({ PartNumber: number, ETag: part.ETag });
}
const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket,
  Key: "multi", UploadId: upload.UploadId, MultipartUpload: { Parts: parts } }));
seen.s3MultipartETag = completed.ETag;
const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
seen.s3Keys = listed.Contents.map((item) => item.Key);
seen.s3MissingKey = await errorName(s3.send(new GetObjectCommand({ Bucket: bucket,
  Key: "missing" })));
seen.s3HeadMissing = await errorName(s3.send(new HeadObjectCommand({ Bucket: bucket,
  Key: "missing" })));

// SQS (json): the SDK checks the MD5 of what it sends and receives
const sqs = new SQSClient(config);
const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `js-${suffix}` }));
await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "ping",
  MessageAttributes: { kind: { DataType: "String", StringValue: "test" } } }));
const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1,
  MessageAttributeNames: ["All"] }));
const message = received.Messages[0];
seen.sqs = { body: message.Body, attribute: message.MessageAttributes.kind.StringValue };
await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
seen.sqsMissingQueue = await errorName(sqs.send(new SendMessageCommand({
  QueueUrl: `${QueueUrl}-missing`, MessageBody: "x" })));

// DynamoDB (json 1.0, CRC32 of responses checked by the SDK)
const ddb = new DynamoDBClient(config);
const table = `js-${suffix}`;
await ddb.send(new CreateTableCommand({ TableName: table, BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "N" }],
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" }] }));
for (let sk = 1; sk <= 3; sk++) {
  await ddb.send(new PutItemCommand({ TableName: table,
    Item: { pk: { S: "p" }, sk: { N: String(sk) }, data: { S: `item ${sk}` } } }));
}
const item = await ddb.send(new GetItemCommand({ TableName: table,
  Key: { pk: { S: "p" }, sk: { N: "2" } } }));
seen.ddbItem = item.Item.data.S;
const queried = await ddb.send(new QueryCommand({ TableName: table,
  KeyConditionExpression: "pk = :p AND sk > :s", ScanIndexForward: false,
  ExpressionAttributeValues: { ":p": { S: "p" }, ":s": { N: "1" } } }));
seen.ddbQuery = queried.Items.map((found) => Number(found.sk.N));
seen.ddbConditionFailed = await errorName(ddb.send(new PutItemCommand({ TableName: table,
  Item: { pk: { S: "p" }, sk: { N: "1" } }, ConditionExpression: "attribute_not_exists(pk)" })));

// STS (query)
const sts = new STSClient(config);
seen.stsAccount = (await sts.send(new GetCallerIdentityCommand({}))).Account;

console.log(JSON.stringify(seen));
